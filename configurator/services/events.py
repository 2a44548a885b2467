"""Things other parts react to. Owned by the partners area (webhooks)."""
from __future__ import annotations

from ..models._types import utcnow
from . import webhooks

UNIT_STATUS_CHANGED = "unit.status_changed"


def unit_status_changed(unit, event) -> None:
    """Called inside the transaction that moved `unit` (a models.Unit) with its new UnitEvent.

    A partner's order gets a webhook event per change, written in the same transaction.
    """
    order = unit.order
    if order is None or order.partner_id is None:
        return
    webhooks.record_event(order.partner_id, UNIT_STATUS_CHANGED, {
        "order": {"id": order.id, "reference": order.reference,
                  "partner_reference": order.partner_reference},
        "unit": {"id": unit.id, "code": unit.code, "position": unit.position,
                 "label": unit.label, "product": unit.product_id,
                 "from_status": event.from_status, "to_status": event.to_status,
                 "at": (event.at or utcnow()).isoformat() + "Z"},
    })
