"""When the database is out of reach (restarting, failing over, overloaded), every page and
API answers 503 with "try again" and a Retry-After, never a 500 with a traceback.

What counts: the driver lost or could not open its connection (OperationalError,
InterfaceError; also a deadlock that outlived the order service's retries), or the pool had no
connection free in time. The database rolled back that request's transaction, so nothing of it
was kept unless its commit had already gone through.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = ("We could not reach our database just now, so this request was not completed. "
           "Please try again in a few seconds.")
JSON_PREFIXES = ("/api/", "/partners/v1/")


def register(app: Flask) -> None:
    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(error, database_unavailable)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first.
    app.teardown_appcontext(_end_session)


def _end_session(_exc: BaseException | None) -> None:
    """End the request's session; if the database went away after the answer was made (a
    restart), drop the connection instead of failing the answer: a 201 stays a 201."""
    try:
        db.session.remove()
    except (OperationalError, InterfaceError) as error:
        log.warning("database connection lost while ending a request: %s",
                    str(error).splitlines()[0])
        db.session().invalidate()
        db.session.remove()


def database_unavailable(exc: Exception):
    log.warning("database unavailable on %s %s: %s", request.method, request.path,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the pool replaces it on the next checkout
        db.session.close()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith(JSON_PREFIXES) or request.is_json:
        return jsonify(status=503, message=MESSAGE), 503, headers
    return render_template("errors/503.html", message=MESSAGE), 503, headers
