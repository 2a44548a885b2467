"""Things other parts react to. Owned by the partners area (webhooks)."""
from __future__ import annotations


def unit_status_changed(unit, event) -> None:
    """Called inside the transaction that moved `unit` (a models.Unit) with its new UnitEvent."""
    # Placeholder until webhooks land.
