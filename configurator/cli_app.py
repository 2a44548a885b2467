"""Commands that need the app: database setup, demo data, users."""
from __future__ import annotations

import click
from flask import Flask

from .cli_partners import partners
from .cli_users import users
from .cli_workorders import workorders
from .demo import demo_data_command


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(partners)
    app.cli.add_command(users)
    app.cli.add_command(workorders)
    app.cli.add_command(demo_data_command)


@click.command("init-db")
def init_db() -> None:
    """Create the tables (development and tests; production uses migrations)."""
    from flask import current_app

    from .extensions import db

    with current_app.app_context():
        db.create_all()
    click.echo("database ready")
