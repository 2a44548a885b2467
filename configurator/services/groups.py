"""Group orders: an organiser fixes the shared choices of a design, members join through an
invitation link with their own measurements and free choices, and the organiser places the
whole group as one order (`place_order`, source "group") with a unit per ready member.

The server decides everything: a member's design is always the organiser's fixed choices plus
the member's own, whatever the member posts; a member whose design the engine rejects is
"blocked" with the engine's reasons and left out of the order, never the group; the deadline
is checked against the clock on every change, so no job has to run for a group to close.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from ..domain import bill_of_materials, propagate, validate
from ..domain.engine import drop_inactive
from ..domain.model import ProductSpec
from ..extensions import db
from ..models import GroupMember, GroupOrder
from ..models._types import utcnow
from ..specs_registry import catalog
from . import stock
from .drafts import TOKEN_PATTERN
from .group_input import (MAX_MEMBERS, GroupClosed, GroupError, GroupSettings, MemberDetails,
                          clean_details, deadline_problems, email_address, end_of,
                          expected_problems, group_error, settings_problems)
from .orders import Problem, normalise_design

READY, BLOCKED = "ready", "blocked"
OPEN, CLOSED, PLACED = "open", "closed", "placed"


# -- the spec's hint: which options are the members' ----------------------------------------

def suggested_member_options(spec: ProductSpec) -> tuple[str, ...]:
    """Options members choose by default: the ones a rule ties to a body measurement (fit,
    trouser hem: they depend on the person) unless they are the look itself (swatches), and
    the ones that switch on a personal text (monogram), with the options that depend on those."""
    measurements = {m.id for m in spec.measurements}
    chosen = {o.id for o in spec.options if o.display != "swatch" and any(
        o.id in r.expr.names() and r.expr.names() & measurements for r in spec.rules)}
    chosen |= {name for t in spec.texts if t.when is not None for name in t.when.names()}
    for _ in spec.options:  # options that apply only through a member's choice follow it
        chosen |= {o.id for o in spec.options if o.when is not None and o.when.names() & chosen}
    return tuple(o.id for o in spec.options if o.id in chosen)


# -- designs --------------------------------------------------------------------------------

def prune(spec: ProductSpec, design: dict) -> dict:
    """Drop the options and texts that do not apply (a waistcoat's on a two-piece)."""
    return drop_inactive(spec, design)[0]


def fixed_choices(group: GroupOrder) -> dict[str, str]:
    """The organiser's choices every member gets."""
    options = group.base_design.get("options", {}) if isinstance(group.base_design, dict) else {}
    return {k: v for k, v in options.items() if k not in group.member_options}


def member_design(spec: ProductSpec, group: GroupOrder, posted: object) -> dict:
    """A member's design: their measurements, texts and free choices, and the fixed choices
    over anything they posted for those."""
    design = normalise_design(posted)
    fixed = fixed_choices(group)
    options = {k: v for k, v in design["options"].items() if k not in fixed}
    return prune(spec, {**design, "options": {**options, **fixed}})


def starting_design(group: GroupOrder) -> dict:
    """What a new member's form starts from: the organiser's whole design."""
    return normalise_design({"options": dict(group.base_design.get("options", {}))})


def check_member(spec: ProductSpec, group: GroupOrder, design: dict,
                 levels: dict[str, Decimal] | None = None) -> tuple[str, list[str]]:
    """READY, or BLOCKED with the reasons a person reads: the engine's violations, then any
    material with less left than this unit needs (`levels`: live stock, read once per page)."""
    result = validate(spec, design)
    if not result.valid:
        return BLOCKED, _explain(spec, group, result.violations)
    live = stock.levels(spec) if levels is None else levels
    short = {line.material for line in bill_of_materials(spec, design)
             if live.get(line.material, Decimal(0)) < stock.round_up(line.quantity)}
    if not short:
        return READY, []
    chosen = [option.choice(design["options"].get(option.id, "")) for option in spec.options]
    out = [f"{c.label} is out of stock." for c in chosen if c and c.material in short]
    return BLOCKED, out or ["There is not enough material left in stock for this design."]


def _choice_reasons(prop, chosen: dict) -> list[str]:
    """Why the chosen choices are not possible (out of stock, a rule), once each."""
    reasons = []
    for option_id, choice_id in chosen.items():
        state = prop.options.get(option_id, {}).get(choice_id)
        reasons += [r.message for r in state.reasons] if state is not None else []
    return list(dict.fromkeys(reasons))


def _explain(spec: ProductSpec, group: GroupOrder, violations: Iterable) -> list[str]:
    fixed = fixed_choices(group)
    messages = []
    for v in violations:
        names = [p.partition(".")[2] for p in v.fields if p.startswith("options.")]
        shared = [spec.option(n).label for n in names if n in fixed and spec.option(n)]
        note = (f" ({', '.join(shared)}: chosen by the organiser for the whole group; ask them "
                "if you need another.)") if shared else ""
        messages.append(v.message + note)
    return list(dict.fromkeys(messages))


# -- creating and looking up ----------------------------------------------------------------

def create_group(spec: ProductSpec, design: object, settings: GroupSettings,
                 member_options: Iterable[str], *, now: datetime | None = None) -> GroupOrder:
    """A new open group from the organiser's design; commits."""
    now = now or utcnow()
    free = [o.id for o in spec.options if o.id in set(member_options)]
    base = prune(spec, {**normalise_design(design), "measurements": {}, "texts": {}})
    problems = settings_problems(settings, now) + _base_problems(spec, base, free)
    if problems:
        raise GroupError(problems)
    group = GroupOrder(
        title=settings.title.strip(), organiser_name=settings.organiser_name.strip(),
        organiser_email=email_address(settings.organiser_email), product_id=spec.id,
        spec_version=spec.version, base_design={"options": base["options"]},
        member_options=free, expected_members=settings.expected_members,
        closes_at=end_of(settings.deadline), state=OPEN)
    db.session.add(group)
    db.session.commit()
    return group


def _base_problems(spec: ProductSpec, base: dict, free: list[str]) -> list[Problem]:
    """Every fixed choice made, and together they leave some valid design for each member."""
    active = propagate(spec, base).active
    problems = [Problem(None, f"options.{o.id}", "required", (
        f"Please choose the {o.label.lower()} for the group, or tick it to let each member "
        "choose.")) for o in spec.options
        if o.id not in free and o.id not in base["options"] and active.get(o.id, True)]
    fixed = {k: v for k, v in base["options"].items() if k not in free}
    prop = propagate(spec, {**base, "options": fixed}, stock=stock.levels(spec))
    if not problems and not prop.feasible:
        problems = [Problem(None, "design", "infeasible", m)
                    for m in _choice_reasons(prop, fixed)] or [
            Problem(None, "design", "infeasible",
                    "These shared choices cannot be made together; please change them.")]
    return problems


def _by_token(column, token: object):
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    return db.session.execute(select(column.class_).where(column == token)).scalar_one_or_none()


def group_for_organiser(token: object) -> GroupOrder | None:
    return _by_token(GroupOrder.organiser_token, token)


def group_for_invite(token: object) -> GroupOrder | None:
    return _by_token(GroupOrder.invite_token, token)


def member_by_token(token: object) -> GroupMember | None:
    return _by_token(GroupMember.token, token)


def spec_of(group: GroupOrder) -> ProductSpec:
    spec = catalog().products.get(group.product_id)
    if spec is None:
        raise group_error("product", "unknown", (
            f"{group.product_id} is no longer offered, so this group cannot go on; "
            "please start a new group from the catalog."))
    return spec


def spec_of_or_none(group: GroupOrder) -> ProductSpec | None:
    return catalog().products.get(group.product_id)


# -- state and deadline ---------------------------------------------------------------------

def state_of(group: GroupOrder, now: datetime | None = None) -> str:
    """OPEN, CLOSED (by the organiser or the deadline) or PLACED."""
    if group.state == PLACED:
        return PLACED
    if group.state == CLOSED or (now or utcnow()) >= group.closes_at:
        return CLOSED
    return OPEN


def _require_open(group: GroupOrder, now: datetime) -> None:
    state = state_of(group, now)
    if state == PLACED:
        raise GroupClosed([Problem(None, "group", "placed", (
            "The organiser has already placed this group's order, so it takes no more "
            "changes. Please contact the organiser."))])
    if state == CLOSED:
        raise GroupClosed([Problem(None, "group", "closed", (
            f"This group closed on {closing_text(group)}, so it takes no more members or "
            "changes. Please ask the organiser to extend the deadline."))])


def closing_text(group: GroupOrder) -> str:
    """When joining ends, as people read it: "14 March 2026, 24:00 UTC"."""
    last = group.closes_at - timedelta(seconds=1)
    return f"{last.day} {last:%B %Y}, 24:00 UTC" if last.time() == time(23, 59, 59) else (
        f"{group.closes_at.day} {group.closes_at:%B %Y}, {group.closes_at:%H:%M} UTC")


def close_group(group: GroupOrder, now: datetime | None = None) -> None:
    """The organiser stops joining now; commits."""
    now = now or utcnow()
    require_not_placed(group)
    group.state, group.closes_at = CLOSED, min(group.closes_at, now)
    db.session.commit()


def change_settings(group: GroupOrder, deadline: object, expected: object,
                    now: datetime | None = None) -> None:
    """A new last day (which reopens a closed group) and a new head count; commits."""
    now = now or utcnow()
    require_not_placed(group)
    problems = deadline_problems(deadline, now) + expected_problems(expected)
    if isinstance(expected, int) and expected < len(group.members):
        problems.append(Problem(None, "expected_members", "range", (
            f"{len(group.members)} people have already joined; the count cannot be lower.")))
    if problems:
        raise GroupError(problems)
    group.closes_at, group.expected_members, group.state = end_of(deadline), expected, OPEN
    db.session.commit()


def require_not_placed(group: GroupOrder) -> None:
    if group.state == PLACED:
        raise GroupClosed([Problem(None, "group", "placed",
                                   "This group's order is already placed.")])


# -- members --------------------------------------------------------------------------------

def join_group(group: GroupOrder, details: MemberDetails, posted: object,
               now: datetime | None = None) -> GroupMember:
    """Add a member (READY or BLOCKED with reasons: a blocked member keeps their link to fix
    it); commits. Refused when the group is closed or full."""
    now = now or utcnow()
    _require_open(group, now)
    if len(group.members) >= MAX_MEMBERS:
        raise group_error("group", "full", (
            f"This group is full: one order holds {MAX_MEMBERS} units. Please ask the "
            "organiser to start a second group."))
    member = GroupMember(design={}, problems=[])
    _apply(group, member, details, posted)
    group.members.append(member)  # only now: a refused join leaves nothing in the session
    db.session.commit()
    return member


def update_member(member: GroupMember, details: MemberDetails, posted: object,
                  now: datetime | None = None) -> GroupMember:
    """Change a member's details and design; commits. Refused once the group is closed."""
    _require_open(member.group, now or utcnow())
    _apply(member.group, member, details, posted)
    db.session.commit()
    return member


def leave_group(member: GroupMember, now: datetime | None = None) -> None:
    """Remove a member and everything they entered; commits."""
    _require_open(member.group, now or utcnow())
    db.session.delete(member)
    db.session.commit()


def remove_member(group: GroupOrder, member_id: object) -> str | None:
    """The organiser takes someone out (dropped out, joined by mistake) until the order is
    placed; their entries are deleted; commits. Returns their first name (None: not found)."""
    require_not_placed(group)
    member = next((m for m in group.members if m.id == member_id), None)
    if member is None:
        return None
    group.members.remove(member)
    db.session.commit()
    return member.first_name


def _apply(group: GroupOrder, member: GroupMember, details: MemberDetails,
           posted: object) -> None:
    spec = spec_of(group)
    clean = clean_details(group, member, details)
    design = member_design(spec, group, posted)
    member.status, member.problems = check_member(spec, group, design)
    member.first_name, member.email = clean.first_name, clean.email
    member.full_name, member.label, member.design = clean.full_name, clean.label, design
