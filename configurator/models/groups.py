"""Group orders: one design shared by a group, each member's own measurements and free choices,
placed by the organiser as one order with a unit per member."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import JSONType, new_token, utcnow


class GroupOrder(db.Model):
    """A group being gathered: the shared design, the two links, the deadline, the order."""
    __tablename__ = "group_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))  # "Rui and Ana's wedding"
    organiser_name: Mapped[str] = mapped_column(String(200))
    organiser_email: Mapped[str] = mapped_column(String(254))
    organiser_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    invite_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    product_id: Mapped[str] = mapped_column(String(64))
    spec_version: Mapped[str] = mapped_column(String(64))
    # The organiser's design (options only); the options not in `member_options` are fixed.
    base_design: Mapped[dict[str, Any]] = mapped_column(JSONType)
    member_options: Mapped[list[str]] = mapped_column(JSONType)
    expected_members: Mapped[int] = mapped_column(Integer)
    closes_at: Mapped[datetime]  # UTC; joining and editing stop then, whatever `state` says
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed | placed
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("order.id"))
    placed_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["GroupMember"]] = relationship(
        back_populates="group", order_by="GroupMember.id", cascade="all, delete-orphan")


class GroupMember(db.Model):
    """One person in a group: their own design (shared choices included) and its state."""
    __tablename__ = "group_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group_order.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    first_name: Mapped[str] = mapped_column(String(60))  # the only thing the group sees
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254))
    label: Mapped[str] = mapped_column(String(200), default="")  # "best man"
    design: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready | blocked
    problems: Mapped[list[str]] = mapped_column(JSONType, default=list)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    group: Mapped[GroupOrder] = relationship(back_populates="members")
