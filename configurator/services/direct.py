"""Statements on the driver's own connection (PostgreSQL with psycopg): an order's writes, and
the reads a request makes before anything else.

Through SQLAlchemy, each statement of an order cost the app about 0.1 ms of CPU beyond the
driver's own, and waited for its own round trip: the dozen statements of a keyed partner order
were about half of its CPU (docs/load.md). On psycopg's connection, in the session's own
transaction, statements whose results nobody reads yet are queued in pipeline mode and sent
together (`pipeline`, `insert_rows`). Reads that come first in a request run in autocommit
mode, with no transaction to begin and roll back (`rows`, `alone`). Errors come out as
SQLAlchemy's (`IntegrityError`, `OperationalError`, ...), as they would from `db.session`, so
callers handle both paths alike. Elsewhere (SQLite) `connection()` is None and everything goes
through SQLAlchemy.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.sql.expression import Executable
from sqlalchemy.exc import DBAPIError

from ..extensions import db, run_core


def connection():
    """The psycopg connection under the session's transaction, or None on other drivers."""
    connection = db.session.connection()
    if connection.dialect.driver != "psycopg":
        return None
    return connection.connection.driver_connection


@contextlib.contextmanager
def pipeline(conn) -> Iterator[None]:
    """Queue the statements run inside; they are sent when a result is read, and at the end.
    A database error is raised as SQLAlchemy's exception for it."""
    with sqlalchemy_errors(conn), conn.pipeline():
        yield


@contextlib.contextmanager
def sqlalchemy_errors(conn) -> Iterator[None]:
    """psycopg's errors as SQLAlchemy raises them; a connection that broke is invalidated, so
    the pool replaces it, as SQLAlchemy does for its own statements."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        connection = db.session.connection()
        lost = connection.dialect.is_disconnect(exc, conn, None)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(None, None, exc, psycopg.Error, dialect=connection.dialect,
                                  connection_invalidated=lost) from exc


def rows(statement: Executable, params: Mapping[str, Any]) -> list:
    """The rows of a Core SELECT (without expanding IN parameters), as named tuples, read
    `alone` when nothing else has run yet in the request.

    On psycopg's connection the statement is compiled once and run on its cursor, about a
    quarter less CPU than through SQLAlchemy. Not pipelined: for one statement, entering and
    leaving pipeline mode cost more than the round trip it saves. Elsewhere through
    SQLAlchemy.
    """
    conn = connection()
    if conn is None:
        return run_core(statement, params).all()
    from psycopg.rows import namedtuple_row

    sql, defaults = _compiled(statement, db.session.get_bind().dialect)
    with alone(), sqlalchemy_errors(conn):
        cursor = conn.cursor(row_factory=namedtuple_row)
        cursor.execute(sql, {**defaults, **params})
        return cursor.fetchall()


@contextlib.contextmanager
def alone() -> Iterator[None]:
    """Run the reads inside in autocommit mode, each its own transaction, when no transaction
    is open yet on psycopg's connection (a page that only reads, the partner key's lookup):
    one round trip a read instead of BEGIN, the read and a ROLLBACK at the request's end. The
    ROLLBACK also made psycopg drop every statement it had prepared on the connection (with a
    DEALLOCATE ALL), so the next requests' statements were parsed and planned again. A
    transaction the request opens later begins with its own first statement. For reads only:
    a write inside would be committed at once, so pending changes in the session (which a
    query would flush) keep the transaction."""
    conn = connection()
    if conn is None or conn.autocommit or not _idle(conn) or db.session.new or \
            db.session.dirty or db.session.deleted:
        yield  # no psycopg, alone already (nested), or a transaction to keep
        return
    conn.autocommit = True
    try:
        yield
    finally:
        if not (conn.closed or conn.broken):  # a lost connection is replaced, not reused
            conn.autocommit = False


def _idle(conn) -> bool:
    from psycopg.pq import TransactionStatus

    return conn.info.transaction_status == TransactionStatus.IDLE


@functools.lru_cache(maxsize=64)
def _compiled(statement: Executable, dialect) -> tuple[str, dict[str, Any]]:
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params:
        raise ValueError("direct.rows cannot expand IN parameters; use run_core")
    return str(compiled), dict(compiled.params)


def insert_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """INSERT `rows` into `table` without reading anything back, each completed with the
    model's Python-side defaults; returns the rows as written. On psycopg's connection (queued
    when a pipeline is open), elsewhere through SQLAlchemy."""
    full = [with_defaults(table, row) for row in rows]
    conn = connection()
    if conn is None:
        run_core(insert(table), full)
        return full
    with sqlalchemy_errors(conn):
        conn.cursor().executemany(_insert_sql(table, tuple(full[0])),
                                  [_adapted(table, row) for row in full])
    return full


def with_defaults(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """`row` with a value for every column: the model's default where it has one, else None
    (columns only the database fills, and an id nobody gave, are left to the database)."""
    full = dict(row)
    for key, call, value in _defaults(table):
        if key not in full:
            full[key] = value(None) if call else value
    return full


@functools.lru_cache(maxsize=64)
def _defaults(table: Table) -> tuple[tuple[str, bool, Any], ...]:
    """(column key, whether its default is called, the default) for each column `with_defaults`
    fills, worked out once per table."""
    found = []
    for column in table.columns:
        default = column.default
        if default is not None and default.is_callable:
            found.append((column.key, True, default.arg))  # SQLAlchemy wraps it to take a context
        elif default is not None and default.is_scalar:
            found.append((column.key, False, default.arg))
        elif column.server_default is None and not column.primary_key:
            found.append((column.key, False, None))
    return tuple(found)


@functools.lru_cache(maxsize=64)
def _insert_sql(table: Table, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{table.c[key].name}"' for key in columns)
    values = ", ".join(f"%({key})s" for key in columns)
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({values})'


def _adapted(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    from psycopg.types.json import Jsonb

    return {key: Jsonb(value) if value is not None and key in _json_columns(table) else value
            for key, value in row.items()}


@functools.lru_cache(maxsize=64)
def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.key for c in table.columns if isinstance(c.type, JSON))
