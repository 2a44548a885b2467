"""A group's running total and its order: every member checked again, the volume tier the ready
ones reach, and the ready members placed as one order (`place_order`, source "group").
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import update

from ..domain import quote
from ..domain.pricing import CENT, tier_discount, volume_tier
from ..domain.model import ProductSpec, VolumeTier
from ..extensions import db
from ..models import GroupMember, GroupOrder, Order
from ..models._types import utcnow
from . import stock
from .group_input import GroupClosed, GroupError, group_error
from .groups import PLACED, READY, check_member, require_not_placed, spec_of
from .orders import CustomerDetails, OrderRejected, Problem, UnitRequest, place_order


# -- the running total ----------------------------------------------------------------------

@dataclass(frozen=True)
class MemberLine:
    member: GroupMember
    status: str
    problems: list[str]
    price: Decimal | None  # the unit's price before the group discount


@dataclass(frozen=True)
class Tally:
    """What the group costs now: the ready members' units, the tier they reach, the next."""
    currency: str
    units: int
    subtotal: Decimal
    tier: VolumeTier | None
    discount: Decimal
    total: Decimal
    next_tier: VolumeTier | None
    to_next: int  # members still needed for the next tier
    tiers: tuple[VolumeTier, ...]


def review(group: GroupOrder) -> tuple[list[MemberLine], Tally]:
    """Every member checked again now (the spec or stock may have changed since they joined),
    and the running total of the ready ones."""
    spec = spec_of(group)
    levels = stock.levels(spec)
    lines = []
    for member in group.members:
        status, problems = check_member(spec, group, member.design, levels)
        price = quote(spec, member.design).total if status == READY else None
        lines.append(MemberLine(member, status, problems, price))
    return lines, tally(spec, [line.price for line in lines if line.price is not None])


def tally(spec: ProductSpec, prices: Sequence[Decimal]) -> Tally:
    """The group price as `place_order` will charge it: the best tier reached comes off each
    unit, rounded per unit."""
    tiers = tuple(sorted(spec.volume_tiers, key=lambda t: t.min_units))
    tier = volume_tier(spec, len(prices))
    percent = tier.percent_off if tier else Decimal(0)
    discount = sum((tier_discount(p, tier) for p in prices), Decimal(0))
    subtotal = sum(prices, Decimal(0))
    after = [t for t in tiers if t.min_units > len(prices) and t.percent_off > percent]
    next_tier = after[0] if after else None
    return Tally(spec.currency, len(prices), subtotal.quantize(CENT), tier,
                 discount.quantize(CENT), (subtotal - discount).quantize(CENT), next_tier,
                 next_tier.min_units - len(prices) if next_tier else 0, tiers)


# -- placing --------------------------------------------------------------------------------

def roster_of(members: Iterable[GroupMember]) -> list[str]:
    """Who is in, as the organiser saw it: each member and the version of their entries."""
    return [f"{m.id}:{m.updated_at:%Y%m%d%H%M%S%f}" for m in members]


def place_group(group: GroupOrder, customer: CustomerDetails, roster: Iterable[str], *,
                today: date | None = None, now: datetime | None = None) -> Order:
    """Place the ready members as one order, paid and received by the organiser.

    `roster` is `roster_of` the members the organiser saw as included: if anyone joined, left
    or changed anything since, nothing is placed and the organiser looks again. Blocked members
    are left out (they were shown with their reasons). Placing closes the group for good."""
    now = now or utcnow()
    require_not_placed(group)
    lines, _ = review(group)
    ready = [line.member for line in lines if line.status == READY]
    if not ready:
        raise group_error("group", "empty",
                          "Nobody in the group is ready yet, so there is nothing to order.")
    if sorted(set(roster)) != sorted(roster_of(ready)):
        raise group_error("group", "changed", (
            "The group changed while you were looking (someone joined, left or changed their "
            "design). Please check the list again and place the order."))
    return _place(group, ready, customer, today, now)


def _place(group: GroupOrder, ready: list[GroupMember], customer: CustomerDetails,
           today: date | None, now: datetime) -> Order:
    # Claim the group in the order's transaction: a second click waits for the first and
    # then finds it placed; a refused order rolls the claim back.
    claimed = db.session.execute(
        update(GroupOrder).where(GroupOrder.id == group.id, GroupOrder.state != PLACED)
        .values(state=PLACED, placed_at=now)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise GroupClosed([Problem(None, "group", "placed",
                                   "This group's order is already placed.")])
    requests = [UnitRequest(group.product_id, m.design, unit_label(m)) for m in ready]
    try:
        order = place_order(customer, requests, source="group", today=today)
    except OrderRejected as exc:
        db.session.rollback()
        raise GroupError(_by_member(exc.problems, ready)) from exc
    except BaseException:
        db.session.rollback()
        raise
    group.order_id = order.id
    for member, unit in zip(ready, order.units):
        member.unit_id = unit.id
    db.session.commit()
    return order


def _by_member(problems: Sequence[Problem], ready: list[GroupMember]) -> list[Problem]:
    out = []
    for p in problems:
        if p.unit is None or not 1 <= p.unit <= len(ready):
            out.append(p)
        else:
            out.append(Problem(None, f"member.{ready[p.unit - 1].id}", p.rule,
                               f"{ready[p.unit - 1].first_name}: {p.message}"))
    return out


def unit_label(member: GroupMember) -> str:
    """The unit's label on the order and the work order: the first name (and any note)."""
    return f"{member.first_name} ({member.label})" if member.label else member.first_name
