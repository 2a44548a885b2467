"""What customers say after delivery: a rating per unit, and requests to remake a unit."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import JSONType, Money, utcnow
from .orders import Unit
from .users import User

RATINGS = ("fit", "quality", "delivery")
CATEGORIES = ("fit", "quality")  # what a remake can be asked for
REMAKE_STATES = ("requested", "approved", "declined")


class UnitFeedback(db.Model):
    """The customer confirmed receipt of a unit and rated it 1-5; they may change the rating."""
    __tablename__ = "unit_feedback"
    __table_args__ = tuple(
        CheckConstraint(f"{name} BETWEEN 1 AND 5", name=f"{name}_1_to_5") for name in RATINGS)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    fit: Mapped[int] = mapped_column(SmallInteger)
    quality: Mapped[int] = mapped_column(SmallInteger)
    delivery: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()


class RemakeRequest(db.Model):
    """A customer's request to remake a unit, the planner's decision, and the remade unit.

    `changes` is the design diff the customer asked for, with the values it replaces:
    {"measurements": {"chest": {"from": 102, "to": 104}}}. `cost` is what the remake costs the
    factory (materials and labour at cost); the customer pays nothing for it.
    """
    __tablename__ = "remake_request"
    __table_args__ = (
        CheckConstraint("category IN ('fit', 'quality')", name="category"),
        CheckConstraint("status IN ('requested', 'approved', 'declined')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)  # what is wrong, in the customer's words
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[Optional[datetime]]
    decision_note: Mapped[str] = mapped_column(Text, default="")  # shown to the customer
    remake_unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"), unique=True)
    cost: Mapped[Optional[Decimal]] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    remake_unit: Mapped[Optional[Unit]] = relationship(foreign_keys=[remake_unit_id])
    decided_by: Mapped[Optional[User]] = relationship()

    @property
    def measurement_changes(self) -> dict[str, dict]:
        changed = (self.changes or {}).get("measurements")
        return changed if isinstance(changed, dict) else {}
