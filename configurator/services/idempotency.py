"""`Idempotency-Key`: a retried post gets the first answer, never a second order.

The first request inserts a "processing" record and commits; the unique (partner, key) constraint
makes every concurrent twin fail that insert and answer 409 (or replay once done). The record is
marked done, with the answer, *in the order's own transaction* (session hooks see the new order
and store its answer just before the commit), so a committed order always has a done record
with its answer: a crash can never duplicate the order. A record left "processing" by a crashed
process is taken over after `LEASE`.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, delete, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import IdempotencyRecord, Order
from ..models._types import utcnow

# A request that claimed a key and then died (its database went away, its worker was killed)
# leaves the key "processing"; a retry takes it over after this. No live request runs longer:
# gunicorn kills a worker after SERVE_TIMEOUT (60 s).
LEASE = timedelta(seconds=90)
MAX_KEY_LENGTH = 255


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
                 "files": sorted((k, hashlib.sha256(v).hexdigest()) for k, v in (files or {}).items())}
    return hashlib.sha256(json.dumps(canonical).encode("utf-8")).hexdigest()


def check_key(key: str) -> str | None:
    """A reason the key is unusable, or None."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        return f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
    return None


def run_once(partner_id: int, key: str, fp: str, handle: Callable[[], Order | Answer],
             rebuild: Callable[[Order], Answer]) -> Answer:
    """`handle()` at most once per (partner, key); later calls get its stored answer.

    `handle()` places an order, or gives the answer to a post that places none.
    `rebuild(order)` is the answer for a placed order: stored with the order in its
    transaction, and given to a retry that finds an order without its answer."""
    record_id = _claim(partner_id, key, fp)
    if record_id is None:
        return _replay(_existing(partner_id, key, fp), rebuild)
    try:
        with _answered_with_new_order(record_id, rebuild) as stored:
            result = handle()
    except BaseException:
        _release(record_id)
        raise
    if stored:  # the order's transaction stored its answer: that is the answer, now and later
        return stored[0]
    answer = rebuild(result) if isinstance(result, Order) else result
    _store(record_id, answer)
    return answer


# Built once: every keyed post claims a record, and stores its answer with its order.
_RECORD = IdempotencyRecord.__table__
_CLAIM = insert(_RECORD).returning(_RECORD.c.id)
_ANSWERED = update(_RECORD).where(_RECORD.c.id == bindparam("record_id"))


def _claim(partner_id: int, key: str, fp: str) -> int | None:
    """The id of our new "processing" record; None when a finished twin exists."""
    try:
        record_id = db.session.execute(
            _CLAIM, {"partner_id": partner_id, "key": key, "fingerprint": fp}).scalar_one()
        _commit_keeping_loaded()
        return record_id
    except IntegrityError:
        db.session.rollback()
    existing = _existing(partner_id, key, fp)
    if existing.state == "done":
        return None
    if existing.locked_at < utcnow() - LEASE and _take_over(existing):
        return existing.id
    raise IdempotencyConflict(409, "A request with this Idempotency-Key is still being "
                                   "processed; retry in a moment to get its answer.")


def _commit_keeping_loaded() -> None:
    """Commit the claim without expiring what the request loaded before it (its key and
    partner): the claim wrote nothing else, so reading them back would be a query for
    nothing."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _existing(partner_id: int, key: str, fp: str) -> IdempotencyRecord:
    existing = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.partner_id == partner_id, IdempotencyRecord.key == key))
    if existing is None:  # the first request failed and released the key between our steps
        raise IdempotencyConflict(409, "A request with this Idempotency-Key just failed; "
                                       "retry it.")
    if existing.fingerprint != fp:
        raise IdempotencyConflict(422, "This Idempotency-Key was used with a different body; "
                                       "use a new key for a different order.")
    return existing


def _take_over(record: IdempotencyRecord) -> bool:
    """Claim a record abandoned by a crashed process; only one taker wins."""
    result = db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record.id, IdempotencyRecord.state == "processing",
               IdempotencyRecord.locked_at == record.locked_at)
        .values(locked_at=utcnow()))
    db.session.commit()
    return result.rowcount == 1


@contextmanager
def _answered_with_new_order(record_id: int,
                             answer_for: Callable[[Order], Answer]) -> Iterator[list[Answer]]:
    """Whatever commits a new Order during the block also marks the record done with
    `answer_for(order)`, in the same transaction; the list holds that answer once committed."""
    session = db.session()
    placed: list[Order] = []
    stored: list[Answer] = []

    def note(sess, _context, _instances) -> None:
        order = next((obj for obj in sess.new if isinstance(obj, Order)), None)
        if order is not None:
            placed[:] = [order]

    def store(sess) -> None:
        if sess.in_nested_transaction():
            return  # a savepoint: the order is not complete yet
        sess.flush()  # an order still pending is noted now
        if placed and not stored:
            answer = answer_for(placed[0])
            sess.execute(_ANSWERED, {
                "record_id": record_id, "state": "done", "order_id": placed[0].id,
                "response_status": answer.status, "response_body": answer.body,
                "response_headers": answer.headers})
            stored.append(answer)

    def forget(_sess, transaction) -> None:
        if transaction.parent is None:  # the whole transaction: that order was never placed
            placed.clear()
            stored.clear()

    hooks = (("before_flush", note), ("before_commit", store), ("after_soft_rollback", forget))
    for name, hook in hooks:
        event.listen(session, name, hook)
    try:
        yield stored
    finally:
        for name, hook in hooks:
            event.remove(session, name, hook)


def _store(record_id: int, answer: Answer) -> None:
    db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(
        state="done", response_status=answer.status, response_body=answer.body,
        response_headers=answer.headers))
    db.session.commit()


def _release(record_id: int) -> None:
    """An unexpected failure: forget the key so a retry can run (no order was committed)."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.id == record_id, IdempotencyRecord.order_id.is_(None)))
    db.session.commit()


def _replay(record: IdempotencyRecord, rebuild: Callable[[Order], Answer]) -> Answer:
    if record.response_body is None and record.order is not None:
        return rebuild(record.order)  # the process stopped after the order, before storing
    return Answer(record.response_status or 500, record.response_body or "{}",
                  dict(record.response_headers or {}))
