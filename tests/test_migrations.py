"""The migrations in migrations/ against the models: upgraded to head they give exactly the
models' schema (SQLite, and PostgreSQL when CONFIGURATOR_TEST_DATABASE_URL is set); `init-db`
creates, upgrades and adopts; a server is told when the schema is out of date.

`test_migrations_give_exactly_the_models_schema` fails when a model changed without a revision:
that is its point. Add one with `configurator db migrate -m "..."` (docs/production.md)."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text

from configurator import create_app
from configurator.extensions import db as _db
from configurator.schema import (SchemaError, alembic_config, require_current_schema,
                                 upgrade_to_head)
from tests.test_serve import command_env, run_configurator


def _drop_everything(app) -> None:
    """Every table, the models' or not (alembic_version too), so each test starts empty."""
    with app.app_context(), _db.engine.begin() as connection:
        found = MetaData()
        found.reflect(connection)
        found.drop_all(connection)


@pytest.fixture
def bare_app(app_config):
    """The app on an empty database: no `create_all`, the migrations make the tables."""
    app = create_app(app_config)
    _drop_everything(app)
    yield app
    _drop_everything(app)
    with app.app_context():
        _db.engine.dispose()


def _head(app) -> str:
    return ScriptDirectory.from_config(alembic_config(app)).get_current_head()


def _revision(app) -> str | None:
    with app.app_context(), _db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _tables(app) -> set[str]:
    with app.app_context(), _db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def _describe(difference) -> str:
    """('add_table', Table) -> 'add_table group_order'; column changes with table.column."""
    if isinstance(difference, list):  # modify_* come as a list of tuples
        return ", ".join(_describe(d) for d in difference)
    operation, *rest = difference
    names = [getattr(r, "name", None) or (r if isinstance(r, str) else None) for r in rest]
    return " ".join([operation, *(str(n) for n in names if n)])


def test_migrations_give_exactly_the_models_schema(bare_app):
    upgrade_to_head(bare_app)
    with bare_app.app_context(), _db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, _db.metadata)
    assert not differences, (
        "the models and the migrations differ; add a revision with `configurator db migrate "
        f"-m '...'` and read it: {'; '.join(_describe(d) for d in differences)}")


def test_init_db_creates_then_has_nothing_to_do(bare_app):
    runner = bare_app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert f"schema created at revision {_head(bare_app)}" in first.output
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert _revision(bare_app) == _head(bare_app)


def test_every_revision_downgrades_to_an_empty_database_and_back(bare_app):
    upgrade_to_head(bare_app)
    with bare_app.app_context(), _db.engine.begin() as connection:
        command.downgrade(alembic_config(bare_app, connection), "base")
    assert _tables(bare_app) <= {"alembic_version"}
    upgrade_to_head(bare_app)
    assert _revision(bare_app) == _head(bare_app)


def test_a_database_made_before_migrations_is_adopted_when_its_tables_match(bare_app):
    upgrade_to_head(bare_app)
    with bare_app.app_context(), _db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))  # as `create_all` left it
    outcome = upgrade_to_head(bare_app)
    assert outcome == (f"database ready: its tables (made before migrations) match revision "
                       f"{_head(bare_app)}, stamped")
    assert _revision(bare_app) == _head(bare_app)


def test_a_database_that_matches_no_revision_is_refused_and_left_alone(bare_app):
    upgrade_to_head(bare_app)
    with bare_app.app_context(), _db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text("ALTER TABLE draft ADD COLUMN colour VARCHAR(10)"))
    with pytest.raises(SchemaError) as refused:
        upgrade_to_head(bare_app)
    assert "match no revision" in str(refused.value)
    assert "table draft has unknown columns colour" in str(refused.value)
    assert "configurator db stamp" in str(refused.value)
    assert "alembic_version" not in _tables(bare_app)


@pytest.mark.parametrize("state, message", [
    ("empty", "The database is empty, the code needs schema revision {head}: "
              "run `configurator init-db`."),
    ("behind", "The database schema is at revision 0ld0ne, the code needs {head}: "
               "run `configurator init-db`."),
    ("unversioned", "The database has tables but no schema revision"),
])
def test_a_server_is_told_what_the_schema_is_and_what_to_run(bare_app, state, message):
    if state != "empty":
        upgrade_to_head(bare_app)
    with bare_app.app_context(), _db.engine.begin() as connection:
        if state == "behind":
            connection.execute(text("UPDATE alembic_version SET version_num = '0ld0ne'"))
        if state == "unversioned":
            connection.execute(text("DROP TABLE alembic_version"))
    with pytest.raises(SchemaError) as refused:
        require_current_schema(bare_app)
    assert message.format(head=_head(bare_app)) in str(refused.value)


def test_a_server_starts_on_the_current_schema(bare_app):
    upgrade_to_head(bare_app)
    require_current_schema(bare_app)  # no error


def test_the_flask_migrate_commands_work_on_our_migrations(tmp_path):
    env = command_env(tmp_path)
    assert run_configurator(env, "init-db").returncode == 0
    current = run_configurator(env, "db", "current")
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout
    sql = run_configurator(env, "db", "upgrade", "--sql", "base:head")
    assert 'CREATE TABLE "order"' in sql.stdout
