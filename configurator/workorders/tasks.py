"""Rendering in the background: Celery, in-process when no broker is set, on workers with Redis.

Run workers with `celery -A configurator.workorders.tasks worker` (CONFIGURATOR_BROKER_URL set).

Nothing is lost when a worker dies mid-render: a task is acknowledged only once it finished
(`task_acks_late`), a pool process killed under it puts it back at once
(`task_reject_on_worker_lost`), and Redis hands out again what a killed worker had taken once
BROKER_VISIBILITY_TIMEOUT has passed. Nothing is rendered twice: the task claims the work order
first, and a work order already done (file present) is left alone.
"""
from __future__ import annotations

import functools
import logging
import os
import time
from contextlib import nullcontext
from datetime import timedelta

from celery import Celery
from celery.signals import worker_process_init, worker_ready
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
# Redis gives a task taken by a worker that then vanished to another worker after this long. It
# must exceed the longest task (a big print job) plus the longest retry countdown (40 s).
VISIBILITY_TIMEOUT = 1800
# A work order "rendering" for longer than this is taken to be abandoned by a dead worker.
RENDER_TIMEOUT = 600
celery = Celery("configurator", set_as_current=False)


_configured: tuple | None = None


def configure_celery(broker_url: str | None, queue: str = "workorders",
                     visibility_timeout: float = VISIBILITY_TIMEOUT) -> Celery:
    """No broker: tasks run in-process (eagerly); a broker URL (redis://...): on workers."""
    global _configured
    if _configured == (broker_url, queue, visibility_timeout):
        return celery
    if _configured is not None:
        # Another app in this process (tests, a CLI command) set other values: Celery caches
        # the connection pool and the queues it built from the old ones, so drop them, or
        # tasks would still go to the old broker or queue.
        celery._pool = None
        celery.__dict__.pop("amqp", None)
    _configured = (broker_url, queue, visibility_timeout)
    celery.conf.update(
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            # look for such tasks every few seconds (kombu's default is every 100 s)
            "unacked_restore_interval": max(1, min(10, int(visibility_timeout) // 2)),
            "unacked_restore_throttle": 1,
        },
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


def _configure_from(settings) -> None:
    configure_celery(settings.get("BROKER_URL"), settings.get("RENDER_QUEUE") or "workorders",
                     float(settings.get("BROKER_VISIBILITY_TIMEOUT") or VISIBILITY_TIMEOUT))


def init_app(app: Flask) -> None:
    _configure_from(app.config)
    app.extensions["celery"] = celery


_configure_from({**DEFAULTS, **from_environment()})


@worker_process_init.connect
def _warm_worker(**_kwargs) -> None:
    """Each worker process renders warm from its first task. A pool process forked after the
    main process made its app (the dispatcher's, below) must not use the main process's
    database connections: it drops them from its copy of the pool, unclosed."""
    from .render import warm_up

    if _worker_app.cache_info().currsize:
        with _worker_app().app_context():
            db.engine.dispose(close=False)
    warm_up()


@worker_ready.connect
def _start_dispatching(**_kwargs) -> None:
    """Each render worker also queues what new orders committed (dispatch.py)."""
    from .dispatch import start_dispatcher

    app = _worker_app()
    if app.config.get("BROKER_URL"):
        start_dispatcher(app)


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
            return render_and_store(unit_id, force=force, task_id=self.request.id)
        except RenderFailed as exc:
            if self.request.retries >= self.max_retries:
                return "failed"  # stays failed, with its error, on the planners' list
            raise self.retry(exc=exc, countdown=min(300, 10 * 2 ** self.request.retries))


class RenderFailed(RuntimeError):
    """A render went wrong; the error is on the WorkOrder already."""


def render_and_store(unit_id: int, force: bool = False, task_id: str | None = None) -> str:
    """Render one unit's work order and store the file; "done", or "rendering" when another
    live task is at it.

    Idempotent: a done work order whose file exists is left alone unless `force`. A queued task
    (`task_id`) leaves a work order another task is rendering to that task, unless that one is
    abandoned: it is this very task delivered again (its worker died) or it is older than
    RENDER_TIMEOUT. A direct call (print jobs, the planner) needs the file now and renders.
    """
    work_order, outcome = _claim(unit_id, force, task_id)
    if work_order is None:
        return outcome
    _hold_for_tests()
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
    work_order.renders = (work_order.renders or 0) + 1
    db.session.commit()
    return "done"


def _claim(unit_id: int, force: bool, task_id: str | None) -> tuple[WorkOrder | None, str]:
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
        return None, "done"
    if work_order.status == "rendering" and task_id is not None and not _abandoned(
            work_order, task_id):
        db.session.rollback()
        return None, "rendering"
    work_order.status, work_order.task_id = "rendering", task_id
    work_order.attempts = (work_order.attempts or 0) + 1
    work_order.updated_at = utcnow()
    db.session.commit()
    return work_order, "rendering"


def _abandoned(work_order: WorkOrder, task_id: str) -> bool:
    """Whoever claimed this work order is gone: it was this task (delivered again because its
    worker died), or the claim is older than any render takes."""
    timeout = float(current_app.config.get("RENDER_TIMEOUT") or RENDER_TIMEOUT)
    return work_order.task_id == task_id or work_order.updated_at < utcnow() - timedelta(
        seconds=timeout)


def _hold_for_tests() -> None:
    """Tests only: while the file RENDER_TEST_HOLD names exists, a claimed render waits, so a
    test can kill its worker mid-render. Unset (always, outside tests) it costs nothing."""
    hold = current_app.config.get("RENDER_TEST_HOLD")
    deadline = time.monotonic() + 120
    while hold and os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)


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
