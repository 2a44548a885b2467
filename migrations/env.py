"""Alembic environment: the app's database and the models' metadata.

Run by `configurator db ...` (Flask-Migrate) and by `configurator init-db` (configurator/schema.py),
which may hand over a connection of its own in `config.attributes["connection"]`.
"""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from configurator import models  # noqa: F401  (registers every table)
from configurator.extensions import db

config = context.config
if config.config_file_name and not config.attributes.get("quiet"):
    # The command line shows Alembic's progress; the app's own loggers stay as they are.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

# Batch mode rebuilds a table to alter it on SQLite (which cannot ALTER most things); on
# PostgreSQL it emits plain ALTERs. Types and server defaults are compared, so autogenerate sees
# a changed Numeric precision or a new server default, not only new columns.
CONFIGURE = {"render_as_batch": True, "compare_type": True, "compare_server_default": True}


def _skip_empty_revision(_context, _revision, directives) -> None:
    """`configurator db migrate` with no model change writes no empty revision file."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def run_migrations_offline() -> None:
    """`configurator db upgrade --sql`: print the SQL instead of running it."""
    url = db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=db.metadata, literal_binds=True, **CONFIGURE)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    with current_app.extensions["migrate"].db.engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=db.metadata,
                      process_revision_directives=_skip_empty_revision, **CONFIGURE)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
