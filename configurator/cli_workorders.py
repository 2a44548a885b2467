"""`configurator workorders ...`: render again what is not done (after a broker outage, say)."""
from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import and_, or_, select, update


@click.group("workorders")
def workorders() -> None:
    """Work order PDFs."""


@workorders.command("render-pending")
@click.option("--failed/--no-failed", default=True, show_default=True,
              help="Also retry work orders whose rendering failed.")
@click.option("--stale-after", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Also take over work orders 'rendering' for longer than this (their worker "
                   "died); default: the RENDER_TIMEOUT setting (600 s).")
def render_pending(failed: bool, stale_after: float | None) -> None:
    """Queue every work order that is pending, failed, or abandoned mid-render."""
    from flask import current_app

    from .extensions import db
    from .models import WorkOrder
    from .models._types import utcnow
    from .workorders.queue import enqueue_renders
    from .workorders.tasks import RENDER_TIMEOUT

    if stale_after is None:
        stale_after = float(current_app.config.get("RENDER_TIMEOUT") or RENDER_TIMEOUT)
    states = ["pending", "failed"] if failed else ["pending"]
    abandoned = and_(WorkOrder.status == "rendering",
                     WorkOrder.updated_at < utcnow() - timedelta(seconds=stale_after))
    rows = db.session.execute(select(WorkOrder.unit_id, WorkOrder.status).where(
        or_(WorkOrder.status.in_(states), abandoned)).order_by(WorkOrder.unit_id)).all()
    # Abandoned ones become pending again, so the worker that gets them does not wait for a
    # claim older than its own RENDER_TIMEOUT.
    db.session.execute(update(WorkOrder).where(abandoned).values(status="pending")
                       .execution_options(synchronize_session=False))
    db.session.commit()
    # Not forced: a work order that got done meanwhile is not rendered a second time.
    enqueue_renders([row.unit_id for row in rows])
    # Queued now: the render workers' dispatcher need not queue these again.
    db.session.execute(update(WorkOrder).where(WorkOrder.unit_id.in_([r.unit_id for r in rows]))
                       .values(dispatched_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()
    counts = {state: sum(1 for row in rows if row.status == state)
              for state in ("pending", "failed", "rendering")}
    click.echo(f"{len(rows)} work order(s) queued ({counts['pending']} pending, "
               f"{counts['failed']} failed, {counts['rendering']} abandoned mid-render)")
