"""Moving units through their steps (queued, each station, QC, packed, shipped), audited."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Unit, UnitEvent
from . import events
from .progress import unit_steps


class InvalidTransition(Exception):
    """A unit cannot move to that step; the message says why and what is possible."""


def next_step(unit: Unit) -> tuple[str, str] | None:
    """The (status, label) after the unit's current one, or None once shipped."""
    steps = unit_steps(unit.routing)
    ids = [s for s, _ in steps]
    index = ids.index(unit.status) if unit.status in ids else -1
    return steps[index + 1] if index + 1 < len(steps) else None


def advance_unit(unit_id: int, to_status: str, *, actor, expected_status: str | None = None,
                 note: str = "") -> UnitEvent:
    """Move one unit to `to_status` and record who and when; partners hear of it.

    Planners move a unit one step forward; admins may also move it back to an earlier step
    (with a note saying why). `expected_status` guards against a stale page moving it twice.
    """
    unit = db.session.execute(
        select(Unit).where(Unit.id == unit_id).with_for_update()).scalar_one_or_none()
    try:
        if unit is None:
            raise InvalidTransition(f"There is no unit {unit_id}.")
        _check(unit, to_status, actor, expected_status, note)
        event = UnitEvent(unit=unit, from_status=unit.status, to_status=to_status,
                          actor=_actor_name(actor), note=note.strip()[:2000])
        unit.status = to_status
        db.session.add(event)
        db.session.flush()
        events.unit_status_changed(unit, event)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event


def _check(unit: Unit, to_status: str, actor, expected: str | None, note: str) -> None:
    if expected is not None and unit.status != expected:
        raise InvalidTransition(
            f"Unit {unit.code} is already at '{unit.status}' (someone moved it); "
            "reload the page and try again.")
    ids = [s for s, _ in unit_steps(unit.routing)]
    if to_status not in ids:
        raise InvalidTransition(
            f"'{to_status}' is not a step of unit {unit.code}; its steps are {', '.join(ids)}.")
    current = ids.index(unit.status) if unit.status in ids else -1
    target = ids.index(to_status)
    if target == current + 1:
        return
    if target < current and getattr(actor, "is_admin", False):
        if not note.strip():
            raise InvalidTransition("Moving a unit back needs a note saying why.")
        return
    raise InvalidTransition(
        f"Unit {unit.code} is at '{unit.status}': it can only move on to "
        f"'{ids[current + 1] if current + 1 < len(ids) else 'nothing (shipped)'}'"
        + (" (admins may also move it back)." if target < current else "."))


def _actor_name(actor) -> str:
    return getattr(actor, "email", None) or str(actor)
