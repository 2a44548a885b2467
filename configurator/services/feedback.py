"""Customers confirm receipt of a shipped unit and rate it; planners read the ratings by month
and what comes back in remakes.

One rating per unit. The customer may change it later (after a week of wearing the suit, say):
the latest answer counts, while `received_at` keeps the day receipt was first confirmed, so
the monthly figures do not move when someone edits an old rating.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from ..domain.model import ProductSpec
from ..extensions import db
from ..models import Unit
from ..models.feedback import RATINGS, RemakeRequest, UnitFeedback
from . import remakes
from .orders import Problem

MAX_COMMENT = 2000


class FeedbackRejected(Exception):
    """The rating cannot be stored as given; `problems` names each field and the rule."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def rate_unit(unit_id: int, ratings: Mapping[str, object], comment: str = "") -> UnitFeedback:
    """Confirm receipt of a shipped unit and store (or replace) its 1-5 ratings and comment."""
    values, problems = _clean_ratings(ratings), []
    problems += [Problem(None, name, "range", f"Please rate the {name} from 1 to 5.")
                 for name in RATINGS if values.get(name) is None]
    comment = (comment if isinstance(comment, str) else "").replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT:
        problems.append(Problem(None, "comment", "length",
                                f"The comment is too long: {MAX_COMMENT} characters at most."))
    try:
        unit = db.session.execute(
            select(Unit).where(Unit.id == unit_id).with_for_update()).scalar_one_or_none()
        if unit is None or unit.status != "shipped":
            problems.insert(0, Problem(None, "unit", "not-shipped",
                                       "A unit can be rated once it has shipped."))
        if problems:
            raise FeedbackRejected(problems)
        feedback = feedback_of(unit.id) or UnitFeedback(unit=unit)
        feedback.fit, feedback.quality, feedback.delivery = (values[n] for n in RATINGS)
        feedback.comment = comment
        db.session.add(feedback)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return feedback


def _clean_ratings(ratings: Mapping[str, object]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in RATINGS:
        raw = ratings.get(name) if isinstance(ratings, Mapping) else None
        text = str(raw).strip() if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
        out[name] = int(text) if text in {"1", "2", "3", "4", "5"} else None
    return out


def feedback_of(unit_id: int) -> UnitFeedback | None:
    return db.session.execute(
        select(UnitFeedback).where(UnitFeedback.unit_id == unit_id)).scalar_one_or_none()


# -- what planners read ----------------------------------------------------------------------

@dataclass(frozen=True)
class MonthRatings:
    product_id: str
    month: str  # "2026-03"
    count: int
    fit: Decimal
    quality: Decimal
    delivery: Decimal


def monthly_ratings() -> list[MonthRatings]:
    """Average ratings per product per month of receipt, oldest month first."""
    rows = db.session.execute(
        select(Unit.product_id, UnitFeedback.received_at, UnitFeedback.fit,
               UnitFeedback.quality, UnitFeedback.delivery)
        .join(Unit, Unit.id == UnitFeedback.unit_id)).all()
    buckets: dict[tuple[str, str], list] = {}
    for row in rows:
        key = (row.product_id, row.received_at.strftime("%Y-%m"))
        buckets.setdefault(key, []).append(row)
    return [MonthRatings(product, month, len(items),
                         *(_average([getattr(r, n) for r in items]) for n in RATINGS))
            for (product, month), items in sorted(buckets.items())]


def _average(values: list[int]) -> Decimal:
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def recent_comments(limit: int = 20) -> list[UnitFeedback]:
    """The latest ratings that came with a comment, newest first."""
    return list(db.session.execute(
        select(UnitFeedback).where(UnitFeedback.comment != "")
        .order_by(UnitFeedback.updated_at.desc(), UnitFeedback.id.desc()).limit(limit)).scalars())


# -- what comes back in remakes -------------------------------------------------------------

@dataclass(frozen=True)
class MeasurementCount:
    product_id: str
    label: str
    unit: str
    count: int
    mean_change: Decimal  # signed: + means the customer needed it bigger


@dataclass(frozen=True)
class ChoiceCount:
    product_id: str
    option: str
    choice: str
    remade: int
    shipped: int  # units shipped with this choice: the remake rate's base

    @property
    def rate(self) -> Decimal:
        return (Decimal(100 * self.remade) / self.shipped).quantize(Decimal("0.1")) \
            if self.shipped else Decimal(0)


@dataclass(frozen=True)
class RemakeStats:
    approved: int
    waiting: int
    by_category: dict[tuple[str, str], int]  # (product, category) -> approved remakes
    products: dict[str, tuple[int, int]]  # product -> (remade units, shipped units)
    measurements: list[MeasurementCount]
    choices: list[ChoiceCount]


def remake_statistics(choices_per_product: int = 12) -> RemakeStats:
    """What comes back most: measurements customers changed, and the options and fabrics
    remade more often than their product as a whole, with their remake rate among shipped
    units (approved remakes only)."""
    approved = list(db.session.execute(select(RemakeRequest).where(
        RemakeRequest.status == "approved")).scalars())
    waiting = db.session.scalar(select(func.count(RemakeRequest.id)).where(
        RemakeRequest.status == "requested")) or 0
    by_category: dict[tuple[str, str], int] = {}
    for r in approved:
        key = (r.unit.product_id, r.category)
        by_category[key] = by_category.get(key, 0) + 1
    shipped = _shipped_designs({r.unit.product_id for r in approved})
    remade = {p: len({r.unit_id for r in approved if r.unit.product_id == p}) for p in shipped}
    return RemakeStats(
        len(approved), waiting, dict(sorted(by_category.items())),
        {p: (remade[p], len(shipped[p])) for p in sorted(shipped)},
        _measurement_counts(approved), _choice_counts(approved, shipped, choices_per_product))


def _shipped_designs(products: set[str]) -> dict[str, list[dict]]:
    """The designs of every shipped unit of these products: the base of each remake rate."""
    out: dict[str, list[dict]] = {p: [] for p in products}
    if products:
        for product_id, design in db.session.execute(select(Unit.product_id, Unit.design).where(
                Unit.status == "shipped", Unit.product_id.in_(products))):
            out[product_id].append(design or {})
    return out


def _measurement_counts(approved: list[RemakeRequest]) -> list[MeasurementCount]:
    deltas: dict[tuple[str, str], list[Decimal]] = {}
    specs: dict[tuple[str, str], ProductSpec | None] = {}
    for r in approved:
        for m_id, change in r.measurement_changes.items():
            key = (r.unit.product_id, m_id)
            specs.setdefault(key, _spec_or_none(r.unit))
            new, old = (remakes.number(change.get(k)) or Decimal(0) for k in ("to", "from"))
            deltas.setdefault(key, []).append(new - old)
    out = []
    for (product_id, m_id), values in deltas.items():
        m = specs[(product_id, m_id)].measurement(m_id) if specs[(product_id, m_id)] else None
        out.append(MeasurementCount(
            product_id, m.label if m else m_id, m.unit if m else "", len(values),
            (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.1"))))
    return sorted(out, key=lambda c: (c.product_id, -c.count, c.label))


def _choice_counts(approved: list[RemakeRequest], designs: dict[str, list[dict]],
                   limit: int) -> list[ChoiceCount]:
    remade: dict[tuple[str, str, str], int] = {}
    for r in approved:
        for option_id, choice_id in (r.unit.design.get("options") or {}).items():
            key = (r.unit.product_id, option_id, str(choice_id))
            remade[key] = remade.get(key, 0) + 1
    shipped: dict[tuple[str, str, str], int] = {}
    for product_id, product_designs in designs.items():
        for design in product_designs:
            for option_id, choice_id in (design.get("options") or {}).items():
                key = (product_id, option_id, str(choice_id))
                if key in remade:
                    shipped[key] = shipped.get(key, 0) + 1
    units = {p: len({r.unit_id for r in approved if r.unit.product_id == p}) for p in designs}
    counts = [ChoiceCount(p, *_choice_labels(approved, p, o, c), n, shipped.get((p, o, c), 0))
              for (p, o, c), n in remade.items()]
    # A choice remade no more often than the product as a whole says nothing about the spec.
    counts = [c for c in counts if c.remade * len(designs[c.product_id] or [1])
              > units[c.product_id] * c.shipped]
    counts.sort(key=lambda c: (c.product_id, -c.rate, -c.remade, c.option))
    out, per_product = [], {}
    for c in counts:
        per_product[c.product_id] = per_product.get(c.product_id, 0) + 1
        if per_product[c.product_id] <= limit:
            out.append(c)
    return out


def _choice_labels(approved: list[RemakeRequest], product_id: str, option_id: str,
                   choice_id: str) -> tuple[str, str]:
    unit = next(r.unit for r in approved if r.unit.product_id == product_id)
    spec = _spec_or_none(unit)
    option = spec.option(option_id) if spec else None
    choice = option.choice(choice_id) if option else None
    return (option.label if option else option_id), (choice.label if choice else choice_id)


def _spec_or_none(unit: Unit) -> ProductSpec | None:
    try:
        return remakes.spec_of(unit)
    except LookupError:
        return None
