"""The database schema against the migrations in `migrations/`: create or upgrade to the newest
revision, adopt a database made by `create_all` before there were migrations, and tell a
long-running process (server, worker) to stop when the schema is out of date."""
from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from . import ConfigurationError
from .extensions import db

VERSION_TABLE = "alembic_version"
UPGRADE_HINT = "run `configurator init-db`"


class SchemaError(ConfigurationError):
    """The database cannot be used by this code as it is; the message says what to do."""


def alembic_config(app: Flask, connection: Connection | None = None) -> Config:
    """Alembic's settings for the app's migrations directory, quiet (no logging setup)."""
    directory = app.extensions["migrate"].directory  # the one `configurator db` uses
    config = Config(os.path.join(directory, "alembic.ini"))
    config.set_main_option("script_location", directory)
    config.attributes["quiet"] = True
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _script(app: Flask) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(app))


def _revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {VERSION_TABLE}


def require_current_schema(app: Flask) -> None:
    """Raise `SchemaError` unless the database is at the newest revision (servers, workers)."""
    heads = tuple(sorted(_script(app).get_heads()))
    with app.app_context():
        with db.engine.connect() as connection:
            current, tables = _revisions(connection), _tables(connection)
        db.engine.dispose()  # a server forks after this: no connection is inherited
    if current == heads:
        return
    needs = ", ".join(heads)
    if current:
        raise SchemaError(f"The database schema is at revision {', '.join(current)}, the code "
                          f"needs {needs}: {UPGRADE_HINT}.")
    if tables:
        raise SchemaError(f"The database has tables but no schema revision (made before "
                          f"migrations), the code needs {needs}: {UPGRADE_HINT} to adopt it.")
    raise SchemaError(f"The database is empty, the code needs schema revision {needs}: "
                      f"{UPGRADE_HINT}.")


def upgrade_to_head(app: Flask) -> str:
    """Create the schema or upgrade it to the newest revision; return what was done."""
    adopted = None
    with app.app_context(), db.engine.begin() as connection:
        before, tables = _revisions(connection), _tables(connection)
        if not before and tables:
            adopted = _adopt(app, connection)
        command.upgrade(alembic_config(app, connection), "heads")
        after = ", ".join(_revisions(connection))
    if adopted:
        upgraded = f", then upgraded to {after}" if after != adopted else ""
        return (f"database ready: its tables (made before migrations) match revision "
                f"{adopted}, stamped{upgraded}")
    if not before:
        return f"database ready: schema created at revision {after}"
    if ", ".join(before) == after:
        return f"database ready: schema at revision {after}, nothing to do"
    return f"database ready: schema upgraded from {', '.join(before)} to {after}"


def _adopt(app: Flask, connection: Connection) -> str:
    """A `create_all` database: stamp the revision whose tables and columns it has exactly."""
    shape = _shape(connection)
    for revision in _in_order(app):
        if _shape_at(app, revision) == shape:
            command.stamp(alembic_config(app, connection), revision)
            return revision
    expected = _shape_at(app, "heads")
    raise SchemaError("The database has tables but no schema revision, and they match no "
                      f"revision in migrations/ ({_difference(shape, expected)}). Back it up, "
                      "then either stamp the revision it has (`configurator db stamp REVISION`) "
                      "and run `configurator init-db`, or start from an empty database.")


def _in_order(app: Flask) -> list[str]:
    """Revisions from the newest back to the first (a database is most likely recent)."""
    return [script.revision for script in _script(app).walk_revisions()]


def _shape(connection: Connection) -> dict[str, frozenset[str]]:
    inspector = inspect(connection)
    return {table: frozenset(c["name"] for c in inspector.get_columns(table))
            for table in _tables(connection)}


def _shape_at(app: Flask, revision: str) -> dict[str, frozenset[str]]:
    """Tables and columns after upgrading a scratch in-memory SQLite database to `revision`."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with engine.begin() as scratch:
            command.upgrade(alembic_config(app, scratch), revision)
            return _shape(scratch)
    finally:
        engine.dispose()


def _difference(have: dict[str, frozenset[str]], want: dict[str, frozenset[str]]) -> str:
    parts = []
    if missing := sorted(set(want) - set(have)):
        parts.append("missing tables: " + ", ".join(missing))
    if extra := sorted(set(have) - set(want)):
        parts.append("unknown tables: " + ", ".join(extra))
    for table in sorted(set(want) & set(have)):
        if missing := sorted(want[table] - have[table]):
            parts.append(f"table {table} lacks columns " + ", ".join(missing))
        if extra := sorted(have[table] - want[table]):
            parts.append(f"table {table} has unknown columns " + ", ".join(extra))
    return "; ".join(parts[:6]) + ("; ..." if len(parts) > 6 else "")
