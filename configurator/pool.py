"""Checking a pooled database connection before use only when it sat idle in the pool.

SQLAlchemy's `pool_pre_ping` pings on every checkout: a round trip to the database for every
transaction, which under load (each connection back in use within milliseconds) finds nothing
and costs about as much as a small query. Here a connection is pinged only when it waited in
the pool for `idle_seconds` or more: after a quiet spell, when a database restart or a
firewall may have dropped it unseen. A connection that breaks while in steady use fails its
request with a 503 "try again" (`web/errors.py`), and SQLAlchemy then replaces every older
connection of the pool at its next checkout, as pre-ping would have.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_CHECKED_IN = "configurator.checked_in_at"


def ping_when_idle(engine: Engine, idle_seconds: Callable[[], float]) -> None:
    """Ping `engine`'s pooled connections at checkout if idle for `idle_seconds()` or more; a
    dead one is replaced by a new connection before anything runs on it."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.get(_CHECKED_IN)  # None: a new connection, just opened
        if since is None or time.monotonic() - since < idle_seconds():
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"connection lost while idle: {exc}") from exc
        if not alive:
            raise DisconnectionError("connection lost while idle")
