"""Things other parts react to. Owned by the partners area (webhooks)."""
from __future__ import annotations

from ..models._types import utcnow
from . import webhooks

UNIT_STATUS_CHANGED = "unit.status_changed"
REMAKE_REQUESTED = "remake.requested"
REMAKE_APPROVED = "remake.approved"
REMAKE_DECLINED = "remake.declined"


def unit_status_changed(unit, event) -> None:
    """Called inside the transaction that moved `unit` (a models.Unit) with its new UnitEvent.

    A partner's order gets a webhook event per change, written in the same transaction.
    """
    order = unit.order
    if order is None or order.partner_id is None:
        return
    webhooks.record_event(order.partner_id, UNIT_STATUS_CHANGED, {
        "order": _order(order),
        "unit": {**_unit(unit), "from_status": event.from_status, "to_status": event.to_status,
                 "at": _at(event.at)},
    })


def remake_changed(request, event_type: str) -> None:
    """Called inside the transaction that stored a remake request (REMAKE_REQUESTED) or the
    planner's decision (REMAKE_APPROVED, with the new unit; REMAKE_DECLINED, with the reason).

    A partner's order gets the event in the same transaction; the remade unit's own moves then
    come as `unit.status_changed` like any unit's.
    """
    unit = request.unit
    order = unit.order
    if order is None or order.partner_id is None:
        return
    remake = {"id": request.id, "category": request.category,
              "description": request.description,
              "measurements": request.measurement_changes, "status": request.status,
              "requested_at": _at(request.created_at)}
    if request.status != "requested":
        remake.update(decided_at=_at(request.decided_at), note=request.decision_note)
    if request.remake_unit is not None:
        made = request.remake_unit
        remake["remake_unit"] = {**_unit(made), "status": made.status,
                                 "promised_date": made.promised_date.isoformat()}
    webhooks.record_event(order.partner_id, event_type,
                          {"order": _order(order), "unit": _unit(unit), "remake": remake})


def _order(order) -> dict:
    return {"id": order.id, "reference": order.reference,
            "partner_reference": order.partner_reference}


def _unit(unit) -> dict:
    return {"id": unit.id, "code": unit.code, "position": unit.position, "label": unit.label,
            "product": unit.product_id}


def _at(moment) -> str:
    return (moment or utcnow()).isoformat() + "Z"
