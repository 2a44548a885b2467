"""The steps a unit goes through: queued, each station of its routing in order, then QC,
packing and shipping (unless the routing already has a QC or packing station of its own);
and the order a tracking link follows, with what its page shows."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Order, Unit
from . import direct

# (status, label, station ids of a routing that already stand for this step)
FINAL_STEPS = (
    ("qc", "Quality control", {"qc"}),
    ("packed", "Packed", {"packing"}),
    ("shipped", "Shipped", set()),
)


def unit_steps(routing: Iterable[Mapping]) -> list[tuple[str, str]]:
    """(status, label) pairs in order; `routing` is a unit's stored routing snapshot.

    A station appears once even when several operations happen there; a routing with its own
    QC or packing station keeps it in its place instead of getting a second one at the end.
    """
    steps = [("queued", "Queued")]
    seen = set()
    for step in routing:
        if step["station"] not in seen and step["station"] not in ("queued", "shipped"):
            seen.add(step["station"])
            steps.append((step["station"], step["station_name"]))
    for status, label, stations in FINAL_STEPS:
        if status not in seen and not stations & seen:
            steps.append((status, label))
    return steps


def step_label(routing: Iterable[Mapping], status: str) -> str:
    """The label of `status` for a unit with this routing (the status itself if unknown)."""
    return dict(unit_steps(routing)).get(status, status)


# Built once, the token bound at execution: the tracking page's one query (building a
# statement, and its cache key, costs more than running it).
_TRACKED = (select(Order).options(joinedload(Order.units).joinedload(Unit.events))
            .where(Order.tracking_token == bindparam("token")))


def tracked_order(token: object) -> Order | None:
    """The order behind a tracking link with its units and their events loaded in one query
    (its page shows them all; loading them lazily took two more); None also for malformed
    tokens, like `orders.order_by_tracking_token`."""
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        return None
    with direct.alone():
        return db.session.execute(_TRACKED, {"token": token}).unique().scalar_one_or_none()
