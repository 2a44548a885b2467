"""`configurator workorders ...`: render again what is not done (after a broker outage, say)."""
from __future__ import annotations

import click
from sqlalchemy import select


@click.group("workorders")
def workorders() -> None:
    """Work order PDFs."""


@workorders.command("render-pending")
@click.option("--failed/--no-failed", default=True, show_default=True,
              help="Also retry work orders whose rendering failed.")
def render_pending(failed: bool) -> None:
    """Queue every work order that is pending (or failed) for rendering."""
    from .extensions import db
    from .models import WorkOrder
    from .workorders.queue import enqueue_renders

    states = ["pending", "failed"] if failed else ["pending"]
    unit_ids = list(db.session.execute(
        select(WorkOrder.unit_id).where(WorkOrder.status.in_(states))).scalars())
    enqueue_renders(unit_ids, force=True)
    click.echo(f"{len(unit_ids)} work order(s) queued")
