"""Rendering in the background: Celery, in-process when no broker is set, on workers with Redis.

Run workers with `celery -A configurator.workorders.tasks worker` (CONFIGURATOR_BROKER_URL set).
"""
from __future__ import annotations

import functools
import logging
from contextlib import nullcontext

from celery import Celery
from celery.signals import worker_process_init
from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from ..config import DEFAULTS, from_environment
from ..extensions import db
from ..models import Unit, WorkOrder
from ..models._types import utcnow
from .context import work_order_context
from .render import html_to_pdf_pages, render_work_order_html
from .storage import storage, work_order_key

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
celery = Celery("configurator", set_as_current=False)


def configure_celery(broker_url: str | None, queue: str = "workorders") -> Celery:
    """No broker: tasks run in-process (eagerly); a broker URL (redis://...): on workers."""
    celery.conf.update(
        task_default_queue=queue,
        broker_url=broker_url or "memory://localhost/",
        task_always_eager=not broker_url,
        task_eager_propagates=False,
        task_ignore_result=True,
        task_acks_late=True,  # a worker that dies mid-render leaves the task on the queue
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return celery


def init_app(app: Flask) -> None:
    configure_celery(app.config.get("BROKER_URL"), app.config.get("RENDER_QUEUE") or "workorders")
    app.extensions["celery"] = celery


_settings = {**DEFAULTS, **from_environment()}
configure_celery(_settings.get("BROKER_URL"), _settings.get("RENDER_QUEUE") or "workorders")


@worker_process_init.connect
def _warm_worker(**_kwargs) -> None:
    """Each worker process renders warm from its first task."""
    from .render import warm_up

    warm_up()


@functools.cache
def _worker_app() -> Flask:
    from .. import create_app

    return create_app()


def _app_context():
    """In a request or the eager path the app is there already; a worker makes its own once."""
    return nullcontext() if has_app_context() else _worker_app().app_context()


@celery.task(bind=True, name="workorders.render", max_retries=MAX_ATTEMPTS - 1)
def render_work_order(self, unit_id: int, force: bool = False) -> str:
    """Render and store one unit's traveller; failures are recorded, then retried."""
    with _app_context():
        try:
            return render_and_store(unit_id, force=force)
        except RenderFailed as exc:
            if self.request.retries >= self.max_retries:
                return "failed"  # stays failed, with its error, on the planners' list
            raise self.retry(exc=exc, countdown=min(300, 10 * 2 ** self.request.retries))


class RenderFailed(RuntimeError):
    """A render went wrong; the error is on the WorkOrder already."""


def render_and_store(unit_id: int, force: bool = False) -> str:
    """Idempotent: a done work order whose file exists is left alone unless `force`."""
    work_order = _claim(unit_id, force)
    if work_order is None:
        return "done"
    try:
        unit = db.session.get(Unit, unit_id)
        context = work_order_context(unit, factory=current_app.config["FACTORY_NAME"],
                                     public_url=current_app.config["PUBLIC_URL"])
        data, pages = html_to_pdf_pages(render_work_order_html(context),
                                        current_app.config.get("WORKORDER_PAPER", "A4"))
        key = work_order_key(unit.code)
        storage().save(key, data)
    except Exception as exc:  # anything: record it for the planners, then retry
        log.exception("rendering the work order of unit %s failed", unit_id)
        db.session.rollback()
        return _record_failure(unit_id, f"{type(exc).__name__}: {exc}")
    work_order.status, work_order.path, work_order.pages = "done", key, pages
    work_order.error, work_order.rendered_at = "", utcnow()
    db.session.commit()
    return "done"


def _claim(unit_id: int, force: bool) -> WorkOrder | None:
    work_order = db.session.execute(select(WorkOrder).where(
        WorkOrder.unit_id == unit_id).with_for_update()).scalar_one_or_none()
    if work_order is None:
        if db.session.get(Unit, unit_id) is None:
            db.session.rollback()
            raise LookupError(f"there is no unit {unit_id}")
        work_order = WorkOrder(unit_id=unit_id, status="pending")
        db.session.add(work_order)
    if (not force and work_order.status == "done" and work_order.path
            and storage().exists(work_order.path)):
        db.session.rollback()
        return None
    work_order.status = "rendering"
    work_order.attempts = (work_order.attempts or 0) + 1
    db.session.commit()
    return work_order


def _record_failure(unit_id: int, message: str) -> str:
    work_order = db.session.execute(
        select(WorkOrder).where(WorkOrder.unit_id == unit_id)).scalar_one()
    work_order.status, work_order.error = "failed", message[:2000]
    db.session.commit()
    raise RenderFailed(message)


@celery.task(name="workorders.print", acks_late=True)
def build_print_job(job_id: str, unit_ids: list[int]) -> None:
    from .printing import run_print_job

    with _app_context():
        run_print_job(job_id, unit_ids)
