"""`Idempotency-Key`: a retried post gets the first answer, never a second order.

The record of a key is written once, finished, with its answer: in the order's own transaction,
as its last statement (after the stock and capacity locks), so a committed order always has its
record and answer and a crash before the commit leaves neither; a post that places no order
(422) stores its answer alone. The unique (partner, key) constraint settles races: a twin
running at the same time waits at its own INSERT for the first to commit, is refused, rolls
back everything it did and answers with the stored answer (or 422 when the body differs).
A retry after the first finished does the same. One transaction a post: no separate claim.

Records left "processing" by the previous protocol (a claim committed before the order) are
still honoured: 409 while one is fresh, taken over once it is older than `LEASE`.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import IdempotencyRecord, Order
from ..models._types import utcnow
from . import direct
from .orders import unique_violated

# A record the previous protocol left "processing" (its request died) is taken over after this.
LEASE = timedelta(seconds=90)
MAX_KEY_LENGTH = 255
KEY_CONSTRAINT = "uq_idempotency_record_partner_id"


@dataclass(frozen=True)
class Answer:
    """A response as stored: status, JSON body text, extra headers."""
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class IdempotencyConflict(Exception):
    """The key cannot be used now: 409 (first request still running) or 422 (other body)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def fingerprint(fields: Mapping[str, list[str]], files: Mapping[str, bytes] | None = None) -> str:
    """The same form, in any field order, gives the same fingerprint."""
    canonical = {"fields": sorted((k, list(v)) for k, v in fields.items()),
                 "files": sorted((k, hashlib.sha256(v).hexdigest())
                                 for k, v in (files or {}).items())}
    return hashlib.sha256(json.dumps(canonical).encode("utf-8")).hexdigest()


def check_key(key: str) -> str | None:
    """A reason the key is unusable, or None."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        return f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
    return None


Recorder = Callable[[Order], None]


def run_once(partner_id: int, key: str, fp: str,
             handle: Callable[[Recorder], Order | Answer],
             rebuild: Callable[[Order], Answer]) -> Answer:
    """`handle(record)` at most once per (partner, key); later calls get its stored answer.

    `handle` places an order and calls `record(order)` in the order's transaction just before
    its commit, or returns the answer to a post that places none. `rebuild(order)` is the
    answer for a placed order: stored with it, and given to a retry that finds an order
    without its answer."""
    for _ in range(2):  # a second run only after taking over an abandoned record
        try:
            return _run(partner_id, key, fp, handle, rebuild)
        except IntegrityError as exc:
            db.session.rollback()
            if not unique_violated(exc, KEY_CONSTRAINT,
                                   "idempotency_record.partner_id, idempotency_record.key"):
                raise
        existing = _existing(partner_id, key, fp)
        if existing.state == "done":
            return _replay(existing, rebuild)
        if not (existing.locked_at < utcnow() - LEASE and _take_over(existing)):
            break
    raise IdempotencyConflict(409, "A request with this Idempotency-Key is still being "
                                   "processed; retry in a moment to get its answer.")


def _run(partner_id: int, key: str, fp: str, handle: Callable[[Recorder], Order | Answer],
         rebuild: Callable[[Order], Answer]) -> Answer:
    stored: list[Answer] = []

    def record(order: Order) -> None:
        stored[:] = [rebuild(order)]
        _insert(partner_id, key, fp, stored[0], order.id)

    result = handle(record)
    if isinstance(result, Order):
        return stored[0]
    _insert(partner_id, key, fp, result, None)  # a post that placed nothing: its answer alone
    db.session.commit()
    return result


def _insert(partner_id: int, key: str, fp: str, answer: Answer, order_id: int | None) -> None:
    direct.insert_rows(IdempotencyRecord.__table__, [{
        "partner_id": partner_id, "key": key, "fingerprint": fp, "state": "done",
        "order_id": order_id, "response_status": answer.status, "response_body": answer.body,
        "response_headers": answer.headers}])


def _existing(partner_id: int, key: str, fp: str) -> IdempotencyRecord:
    existing = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.partner_id == partner_id, IdempotencyRecord.key == key))
    if existing is None:  # an abandoned record was taken over and dropped between our steps
        raise IdempotencyConflict(409, "A request with this Idempotency-Key just failed; "
                                       "retry it.")
    if existing.fingerprint != fp:
        raise IdempotencyConflict(422, "This Idempotency-Key was used with a different body; "
                                       "use a new key for a different order.")
    return existing


def _take_over(record: IdempotencyRecord) -> bool:
    """Drop a record abandoned by a crashed process (it has no order), so this request can
    run; only one taker wins."""
    result = db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.id == record.id, IdempotencyRecord.state == "processing",
        IdempotencyRecord.locked_at == record.locked_at, IdempotencyRecord.order_id.is_(None)))
    db.session.commit()
    return result.rowcount == 1


def _replay(record: IdempotencyRecord, rebuild: Callable[[Order], Answer]) -> Answer:
    if record.response_body is None and record.order is not None:
        return rebuild(record.order)  # a record of the previous protocol without its answer
    return Answer(record.response_status or 500, record.response_body or "{}",
                  dict(record.response_headers or {}))
