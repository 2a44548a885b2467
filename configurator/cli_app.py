"""Commands that need the app: database setup, demo data, users."""
from __future__ import annotations

import click
from flask import Flask

from .cli_partners import partners


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(partners)


@click.command("init-db")
def init_db() -> None:
    """Create the tables (development and tests; production uses migrations)."""
    from flask import current_app

    from .extensions import db

    with current_app.app_context():
        db.create_all()
    click.echo("database ready")
