"""Remakes: a customer says what is wrong with a shipped unit, a planner approves or declines,
and an approved remake becomes a new unit of the same order, made at the factory's cost.

A remake is the same piece made again, so it is checked against the spec version the original
was ordered under (`Unit.spec_version`), not today's spec: the cloth, options and rules the
customer bought stay exactly as they were, and only the measurements they adjust change. (A
spec corrected since then applies to new orders; the planner can decline and ask the customer
to order afresh when the old version can no longer be made.)
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, select

from ..domain import propagate, validate
from ..domain.model import ProductSpec
from ..extensions import db
from ..models import Unit
from ..models._types import utcnow
from ..models.feedback import CATEGORIES, RemakeRequest
from ..specs_registry import spec_for_version
from . import events, orders
from .orders import Problem

WINDOW_DAYS = 90  # a remake can be asked for up to this long after shipping
MAX_REQUESTS = 3  # per unit: after that, the customer talks to us
MAX_TEXT = 2000
OPEN = ("requested", "approved")
MAX_NUMBER = Decimal(10) ** 6  # no measurement comes near; bigger is a slip, not a body


class RemakeRejected(Exception):
    """The request or the decision cannot be made; `problems` names each field and the rule."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def spec_of(unit: Unit) -> ProductSpec:
    return spec_for_version(unit.product_id, unit.spec_version)


def shipped_at(unit: Unit) -> datetime | None:
    return max((e.at for e in unit.events if e.to_status == "shipped"), default=None)


# Built once, the unit bound at execution: the tracking page asks for each unit.
_REQUESTS_OF = (select(RemakeRequest).where(RemakeRequest.unit_id == bindparam("unit_id"))
                .order_by(RemakeRequest.id))


def requests_of(unit_id: int) -> list[RemakeRequest]:
    return list(db.session.execute(_REQUESTS_OF, {"unit_id": unit_id}).scalars())


def why_not(unit: Unit, now: datetime | None = None) -> str | None:
    """Why a remake of `unit` cannot be asked for now, in the customer's words; None if it can."""
    if unit.status != "shipped":
        return "A remake can be asked for once the unit has shipped."
    sent = shipped_at(unit)
    if sent is not None and (now or utcnow()) > sent + timedelta(days=WINDOW_DAYS):
        return (f"Remakes can be asked for within {WINDOW_DAYS} days of shipping; "
                "please write to us about this unit.")
    earlier = requests_of(unit.id)
    if any(r.status in OPEN for r in earlier):
        return "A remake of this unit has already been asked for."
    if len(earlier) >= MAX_REQUESTS:
        return "This unit has had several remake requests; please write to us about it."
    return None


# -- the customer asks -----------------------------------------------------------------------

def request_remake(unit_id: int, category: str, description: str,
                   measurements: Mapping[str, object] | None = None) -> RemakeRequest:
    """Store a remake request; adjusted measurements are checked by the engine like any design."""
    try:
        unit = db.session.execute(
            select(Unit).where(Unit.id == unit_id).with_for_update()).scalar_one_or_none()
        if unit is None:
            raise RemakeRejected([Problem(None, "unit", "unknown", "There is no such unit.")])
        reason = why_not(unit)
        if reason:
            raise RemakeRejected([Problem(None, "unit", "not-possible", reason)])
        description, problems = _clean_request(category, description)
        changes, more = check_adjustments(spec_of(unit), unit.design, measurements or {})
        if problems or more:
            raise RemakeRejected(problems + more)
        request = RemakeRequest(unit=unit, category=category, description=description,
                                changes={"measurements": changes} if changes else {})
        db.session.add(request)
        db.session.flush()
        events.remake_changed(request, events.REMAKE_REQUESTED)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return request


def _clean_request(category: object, description: object) -> tuple[str, list[Problem]]:
    problems = []
    if category not in CATEGORIES:
        problems.append(Problem(None, "category", "choice",
                                "Please say whether the fit or the quality is wrong."))
    text = description.replace("\x00", "").strip() if isinstance(description, str) else ""
    if not text:
        problems.append(Problem(None, "description", "required",
                                "Please tell us what is wrong, so we can put it right."))
    elif len(text) > MAX_TEXT:
        problems.append(Problem(None, "description", "length",
                                f"Please keep it to {MAX_TEXT} characters."))
    return text, problems


def check_adjustments(spec: ProductSpec, design: dict, adjusted: Mapping[str, object]
                      ) -> tuple[dict[str, dict], list[Problem]]:
    """The changed measurements as {id: {"from", "to"}}, and problems naming each field with
    the range the engine allows given the other measurements."""
    current = dict(design.get("measurements") or {})
    changes, problems = {}, []
    for m_id, raw in adjusted.items():
        m = spec.measurement(m_id) if isinstance(m_id, str) else None
        value = number(raw)
        if m is None:
            problems.append(Problem(None, f"measurements.{str(m_id)[:64]}", "unknown",
                                    f"{spec.name} has no measurement {str(m_id)[:64]!r}."))
        elif value is None:
            problems.append(Problem(None, f"measurements.{m_id}", "type",
                                    f"{m.label}: please enter a number in {m.unit}, like 102."))
        elif value != number(current.get(m_id)):
            changes[m_id] = {"from": current.get(m_id), "to": _json_value(value)}
    if problems or not changes:
        return changes, problems
    new = {**orders.normalise_design(design)}
    new["measurements"] = {**current, **{k: c["to"] for k, c in changes.items()}}
    return changes, _violations(spec, new)


def _violations(spec: ProductSpec, design: dict) -> list[Problem]:
    result = validate(spec, design)
    if result.valid:
        return []
    ranges = propagate(spec, design).measurements
    problems = []
    for v in result.violations:
        fields = [f for f in v.fields if f.startswith("measurements.")] or list(v.fields[:1])
        for path in fields or ["design"]:
            problems.append(Problem(None, path, v.rule, v.message + _range_hint(
                spec, path.partition(".")[2], ranges)))
    return problems


def _range_hint(spec: ProductSpec, m_id: str, ranges: dict) -> str:
    m, allowed = spec.measurement(m_id), ranges.get(m_id)
    if m is None or allowed is None:
        return ""
    if allowed.min is None:
        return " No value fits with the other measurements as they are; please check them too."
    return (f" With your other measurements, {m.label} can be {_fmt(allowed.min)} to "
            f"{_fmt(allowed.max)} {m.unit}.")


def number(raw: object) -> Decimal | None:
    """A measurement as sent (102, "102.5", "102,5"); None for anything that is not a plain
    number of a sensible size."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < MAX_NUMBER else None


def _json_value(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _fmt(value) -> str:
    return format(Decimal(str(value)).normalize(), "f")


# -- the planner decides ---------------------------------------------------------------------

def approve_remake(request_id: int, planner, note: str = "", today: date | None = None) -> Unit:
    """Make the remake: a new unit of the same order with the adjusted measurements, price 0
    for the customer, stock reserved and capacity booked like any unit, its work order queued."""
    try:
        request = _open_request(request_id)
        note = _clean_note(note, required=False)
        unit = _remake_unit(request, request.unit, today or date.today())
        _decide(request, planner, "approved", note)
        request.remake_unit = unit
        events.remake_changed(request, events.REMAKE_APPROVED)
        db.session.commit()
    except orders.OrderRejected as exc:
        db.session.rollback()
        raise RemakeRejected([Problem(None, p.field, p.rule, f"The remake cannot be made now: "
                                      f"{p.message}") for p in exc.problems]) from exc
    except BaseException:
        db.session.rollback()
        raise
    orders.enqueue_work_orders([unit.id])
    return unit


def _remake_unit(request: RemakeRequest, original: Unit, today: date) -> Unit:
    spec = spec_of(original)
    design = orders.normalise_design(original.design)
    design["measurements"].update({k: c["to"] for k, c in request.measurement_changes.items()})
    order = original.order
    position = max(u.position for u in order.units) + 1
    priced = orders.check_design(position, spec, design, original.label)
    request.cost = Decimal(priced.quote["materials"]) + Decimal(priced.quote["labour"])
    request.currency = spec.currency
    priced.quote = {**priced.quote, "remake_of": original.code, "charged": "0.00",
                    "factory_cost": str(request.cost)}
    priced.price = Decimal(0)
    unit = orders.add_unit(order, priced, today, note=f"remake of {original.code}")
    unit.remake_of_id = original.id
    order.promised_date = max(order.promised_date, unit.promised_date)
    return unit


def decline_remake(request_id: int, planner, reason: str) -> RemakeRequest:
    """Decline with a reason the customer reads on the tracking page."""
    try:
        request = _open_request(request_id)
        _decide(request, planner, "declined", _clean_note(reason, required=True))
        events.remake_changed(request, events.REMAKE_DECLINED)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return request


def _open_request(request_id: int) -> RemakeRequest:
    request = db.session.execute(select(RemakeRequest).where(
        RemakeRequest.id == request_id).with_for_update()).scalar_one_or_none()
    if request is None:
        raise RemakeRejected([Problem(None, "request", "unknown", "There is no such request.")])
    if request.status != "requested":
        raise RemakeRejected([Problem(None, "request", "decided", (
            f"This request was already {request.status} (someone decided meanwhile); "
            "reload the page."))])
    return request


def _clean_note(text: object, required: bool) -> str:
    note = text.replace("\x00", "").strip() if isinstance(text, str) else ""
    if required and not note:
        raise RemakeRejected([Problem(None, "reason", "required", (
            "Please give the customer a reason: they read it on their tracking page."))])
    if len(note) > MAX_TEXT:
        raise RemakeRejected([Problem(None, "reason", "length",
                                      f"Please keep the reason to {MAX_TEXT} characters.")])
    return note


def _decide(request: RemakeRequest, planner, status: str, note: str) -> None:
    request.status = status
    request.decision_note = note
    request.decided_by_id = getattr(planner, "id", None)
    request.decided_at = utcnow()


# -- what planners read ----------------------------------------------------------------------

def remake_queue(decided_limit: int = 50) -> tuple[list[RemakeRequest], list[RemakeRequest]]:
    """Open requests oldest first, and the latest decided ones."""
    waiting = db.session.execute(select(RemakeRequest).where(
        RemakeRequest.status == "requested").order_by(RemakeRequest.id)).scalars()
    decided = db.session.execute(
        select(RemakeRequest).where(RemakeRequest.status != "requested")
        .order_by(RemakeRequest.decided_at.desc(), RemakeRequest.id.desc())
        .limit(decided_limit)).scalars()
    return list(waiting), list(decided)
