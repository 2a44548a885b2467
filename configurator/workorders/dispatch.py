"""With a broker, new work orders are queued by the render workers, not by the web request.

An order commits its work orders "pending" and not yet dispatched: that commit is the whole
hand-over (a transactional outbox). A thread in each render worker (`configurator worker`, or
any Celery worker of this app) polls for such work orders every DISPATCH_INTERVAL seconds,
queues a render task for each and marks them dispatched. So a web request pays no broker round
trip (about a tenth of a partner order's CPU), and a web process that dies right after the
commit loses nothing: the work order is in the database, waiting for the next poll.

Several workers may poll at once: on PostgreSQL each takes the rows it queues with FOR UPDATE
SKIP LOCKED, so no two queue the same work order. Queuing one twice would do no harm either:
the render task renders a work order once (tasks.py). Tasks are queued before the rows are
marked, so a dispatcher that dies in between queues them again on its next poll rather than
never. Without a broker none of this runs: the web process renders in-process (queue.py).
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from sqlalchemy import bindparam, select, update

from ..extensions import db
from ..models import WorkOrder
from ..models._types import utcnow

log = logging.getLogger(__name__)

BATCH = 500  # work orders queued per poll at most; a full batch polls again at once

_TABLE = WorkOrder.__table__
_UNDISPATCHED = (select(_TABLE.c.id, _TABLE.c.unit_id)
                 .where(_TABLE.c.status == "pending", _TABLE.c.dispatched_at.is_(None))
                 .order_by(_TABLE.c.id).limit(bindparam("limit"))
                 .with_for_update(skip_locked=True))
_MARK = (update(_TABLE).where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
         .values(dispatched_at=bindparam("at")))


def dispatch_pending(limit: int = BATCH) -> int:
    """Queue a render task for each pending work order nobody queued yet; how many."""
    from .tasks import render_work_order

    rows = db.session.execute(_UNDISPATCHED, {"limit": limit}).all()
    if not rows:
        db.session.rollback()
        return 0
    for row in rows:
        render_work_order.delay(row.unit_id)
    db.session.execute(_MARK, {"ids": [row.id for row in rows], "at": utcnow()})
    db.session.commit()
    return len(rows)


def start_dispatcher(app: Flask) -> threading.Thread:
    """Poll and dispatch on a daemon thread of this (worker) process, for as long as it runs."""
    thread = threading.Thread(target=_dispatch_forever, args=(app,), daemon=True,
                              name="work-order-dispatch")
    thread.start()
    return thread


def _dispatch_forever(app: Flask) -> None:
    interval = float(app.config["DISPATCH_INTERVAL"])
    while True:
        queued = 0
        with app.app_context():
            try:
                queued = dispatch_pending()
            except Exception:  # the database or broker is away: what is pending stays so
                log.exception("dispatching pending work orders failed; trying again")
            finally:
                db.session.remove()
        if queued < BATCH:
            time.sleep(interval)
