"""Print jobs: many work orders as one merged PDF or a zip, built in the background with
progress a planner's page can poll (a planner printing 300 travellers sees it working)."""
from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Unit, WorkOrder
from .merge import merge_pdfs, print_order_key, zip_pdfs
from .storage import storage

FORMATS = {"pdf": "application/pdf", "zip": "application/zip"}


def _state_key(job_id: str) -> str:
    return f"print-jobs/{job_id}.json"


def result_key(job_id: str, fmt: str) -> str:
    return f"print-jobs/{job_id}.{fmt}"


def job_state(job_id: str) -> dict | None:
    """The job's progress, or None for an unknown (or malformed) id."""
    if not (isinstance(job_id, str) and len(job_id) == 32 and job_id.isalnum()):
        return None
    store = storage()
    if not store.exists(_state_key(job_id)):
        return None
    return json.loads(store.read(_state_key(job_id)))


def _save_state(state: dict) -> None:
    storage().save(_state_key(state["id"]), json.dumps(state).encode())


def in_print_order(unit_ids: list[int]) -> list[Unit]:
    units = db.session.execute(select(Unit).where(Unit.id.in_(unit_ids))).scalars().all()
    return sorted(units, key=print_order_key)


def start_print_job(unit_ids: list[int], fmt: str, user_id: int) -> str:
    """Create the job and start it: on a worker with a broker, else in a background thread."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    forget_old_jobs(current_app.config["PRINT_JOB_KEEP_HOURS"] * 3600)
    job_id = secrets.token_hex(16)
    _save_state({"id": job_id, "user_id": user_id, "format": fmt, "total": len(unit_ids),
                 "done": 0, "status": "queued", "error": "",
                 "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    if current_app.config.get("BROKER_URL"):
        from .tasks import build_print_job

        build_print_job.delay(job_id, unit_ids)
    else:
        app = current_app._get_current_object()
        threading.Thread(target=_run_in_app, args=(app, job_id, unit_ids), daemon=True).start()
    return job_id


def forget_old_jobs(max_age_seconds: float, now: float | None = None) -> int:
    """Delete print jobs (state and merged file) older than `max_age_seconds`.

    A merged PDF of 300 travellers is tens of megabytes and is only needed for the shift it
    was printed for; the travellers themselves stay stored per unit.
    """
    folder = storage().root / "print-jobs"
    cutoff = (time.time() if now is None else now) - max_age_seconds
    removed = 0
    for path in folder.glob("*") if folder.is_dir() else ():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _run_in_app(app, job_id: str, unit_ids: list[int]) -> None:
    with app.app_context():
        run_print_job(job_id, unit_ids)


def run_print_job(job_id: str, unit_ids: list[int]) -> None:
    """Render what is missing, then merge (or zip) in print order; progress as it goes."""
    from .tasks import render_and_store

    state = job_state(job_id)
    state["status"] = "running"
    _save_state(state)
    try:
        units = in_print_order(unit_ids)
        paths = []
        for number, unit in enumerate(units, start=1):
            work_order = db.session.execute(
                select(WorkOrder).where(WorkOrder.unit_id == unit.id)).scalar_one_or_none()
            if work_order is None or work_order.status != "done" or not storage().exists(
                    work_order.path or "-"):
                render_and_store(unit.id)
                db.session.expire_all()
                work_order = db.session.execute(
                    select(WorkOrder).where(WorkOrder.unit_id == unit.id)).scalar_one()
            paths.append((unit, storage().path(work_order.path)))
            if number % 10 == 0 or number == len(units):
                state["done"] = number
                _save_state(state)
        _finish(state, paths)
    except Exception as exc:  # recorded for the page; nothing is lost silently
        db.session.rollback()
        state.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
        _save_state(state)
        raise


def _finish(state: dict, paths: list) -> None:
    fmt = state["format"]
    if fmt == "pdf":
        data = merge_pdfs(path for _, path in paths)
    else:
        data = zip_pdfs(
            (f"{n:04d}_{u.promised_date.isoformat()}_{u.code}.pdf", path)
            for n, (u, path) in enumerate(paths, start=1))
    storage().save(result_key(state["id"], fmt), data)
    state.update(status="done", done=len(paths))
    _save_state(state)
