"""Commands that need the app: database setup, demo data, users."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from .cli_partners import partners
from .cli_serve import serve, worker
from .cli_users import users
from .cli_workorders import workorders
from .demo import demo_data_command


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(partners)
    app.cli.add_command(users)
    app.cli.add_command(workorders)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(serve)
    app.cli.add_command(worker)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database or upgrade it to the newest schema (Alembic migrations)."""
    from flask import current_app

    from .schema import SchemaError, upgrade_to_head

    try:
        click.echo(upgrade_to_head(current_app._get_current_object()))
    except SchemaError as exc:
        raise click.ClickException(str(exc))
