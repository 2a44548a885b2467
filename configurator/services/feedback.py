"""Customers confirm receipt of a shipped unit and rate it; planners read it back by month.

One rating per unit. The customer may change it later (after a week of wearing the suit, say):
the latest answer counts, while `received_at` keeps the day receipt was first confirmed, so
the monthly figures do not move when someone edits an old rating.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import Unit
from ..models.feedback import RATINGS, UnitFeedback
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
