"""Hand work orders to the renderer. The order service calls this after its commit.

With a broker the renders go to Celery workers: new work orders are queued by the workers
themselves, from the database (dispatch.py), so the request publishes nothing; a planner's
"render again" and `render-pending` queue theirs directly. Without one (the embedded default)
they run in this process: on its render thread when a web request asked for them, so a
checkout or a partner's post is answered without waiting for its PDFs; at once anywhere else
(a CLI command, a direct call outside a request), or everywhere with RENDER_IN_PROCESS =
"inline" (tests).
A render the process did not get to (it stopped) stays pending on the planners' list, and
`configurator workorders render-pending` renders it.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Sequence

from flask import Flask, current_app, has_request_context
from sqlalchemy import update

from ..extensions import db
from ..models import WorkOrder

log = logging.getLogger(__name__)


def hand_over(unit_ids: Sequence[int]) -> None:
    """New work orders, just committed pending: with a broker the render workers' dispatcher
    queues them (nothing to do here); without one render them in-process."""
    if not current_app.config.get("BROKER_URL"):
        enqueue_renders(unit_ids)


def enqueue_renders(unit_ids: Sequence[int], force: bool = False) -> None:
    """Render these units' work orders: on workers with a broker, in-process without one."""
    from .tasks import render_work_order

    if _on_render_thread():
        _render_thread().submit(current_app._get_current_object(), list(unit_ids), force)
        return
    for unit_id in unit_ids:
        render_work_order.delay(unit_id, force)


def render_again(unit_id: int) -> None:
    """A planner asked for a fresh work order: it is pending until a renderer takes it (a work
    order being rendered stays so), so the unit's page shows the render coming rather than the
    old file's "done"."""
    db.session.execute(update(WorkOrder).where(
        WorkOrder.unit_id == unit_id, WorkOrder.status != "rendering").values(status="pending"))
    db.session.commit()
    enqueue_renders([unit_id], force=True)


def _on_render_thread() -> bool:
    cfg = current_app.config
    return (not cfg.get("BROKER_URL") and has_request_context()
            and cfg["RENDER_IN_PROCESS"] == "background")


class _RenderThread:
    """One thread a process renders what requests handed over, one unit after the other (a
    render is CPU work: more threads would only slow the requests down)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, daemon=True, name="work-order-renderer").start()

    def submit(self, app: Flask, unit_ids: list[int], force: bool) -> None:
        self.jobs.put((app, unit_ids, force))

    def _run(self) -> None:
        from .tasks import render_work_order

        while True:
            app, unit_ids, force = self.jobs.get()
            with app.app_context():
                try:
                    for unit_id in unit_ids:
                        # Eager (no broker): runs here, with the task's retries; a failure is
                        # recorded on the work order for the planners.
                        render_work_order.delay(unit_id, force)
                except Exception:  # keep the thread alive; what failed stays pending
                    log.exception("rendering the work orders of units %s failed", unit_ids)
                finally:
                    db.session.remove()


_thread: _RenderThread | None = None
_thread_lock = threading.Lock()


def _render_thread() -> _RenderThread:
    """This process's render thread, started on first use (and again in a forked child, which
    inherits the object but not the thread)."""
    global _thread
    with _thread_lock:
        if _thread is None or _thread.pid != os.getpid():
            _thread = _RenderThread()
        return _thread
