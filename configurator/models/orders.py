"""Drafts, orders, units, their audit trail and their work orders."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import JSONType, Money, new_token, utcnow


class Draft(db.Model):
    """A saved design, restored exactly by its shareable token."""
    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    product_id: Mapped[str] = mapped_column(String(64))
    spec_version: Mapped[str] = mapped_column(String(64))
    design: Mapped[dict[str, Any]] = mapped_column(JSONType)
    parent_token: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(db.Model):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # shown to people
    tracking_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    source: Mapped[str] = mapped_column(String(16), default="shop")  # shop | partner | group
    customer_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(Text)  # the shipping address as typed, multi-line
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    promised_date: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    partner_reference: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    units: Mapped[list["Unit"]] = relationship(
        back_populates="order", order_by="Unit.position", cascade="all, delete-orphan")


class Unit(db.Model):
    """One physical piece: its frozen design, price, bill of materials and routing."""
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. U-2611-000123
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based within the order
    label: Mapped[str] = mapped_column(String(200), default="")  # "for Anna"
    product_id: Mapped[str] = mapped_column(String(64), index=True)
    spec_version: Mapped[str] = mapped_column(String(64))
    design: Mapped[dict[str, Any]] = mapped_column(JSONType)  # full snapshot
    quote: Mapped[dict[str, Any]] = mapped_column(JSONType)  # Quote.as_dict()
    bill: Mapped[list[Any]] = mapped_column(JSONType)  # bill of materials lines
    # [{station, station_name, operation, minutes}]
    routing: Mapped[list[Any]] = mapped_column(JSONType)
    price: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(64), default="queued", index=True)
    promised_date: Mapped[date] = mapped_column(Date, index=True)
    remake_of_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="units")
    events: Mapped[list["UnitEvent"]] = relationship(
        back_populates="unit", order_by="UnitEvent.id", cascade="all, delete-orphan")
    work_order: Mapped[Optional["WorkOrder"]] = relationship(
        back_populates="unit", uselist=False, cascade="all, delete-orphan")


class UnitEvent(db.Model):
    """Audit log: a unit moved from one status to another, by whom, when."""
    __tablename__ = "unit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    from_status: Mapped[Optional[str]] = mapped_column(String(64))
    to_status: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="events")


class WorkOrder(db.Model):
    """The rendered traveller of one unit and the state of its rendering."""
    __tablename__ = "work_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    # pending | rendering | done | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[Optional[str]] = mapped_column(String(500))
    pages: Mapped[Optional[int]] = mapped_column(Integer)
    rendered_at: Mapped[Optional[datetime]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Completed renders (each wrote the file once) and the render task that claimed it last:
    # a worker killed mid-render leaves "rendering" with its task id, taken over on redelivery.
    renders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    task_id: Mapped[Optional[str]] = mapped_column(String(64))
    # With a broker: when a render worker's dispatcher queued it (workorders/dispatch.py); None
    # while it waits to be queued. The order's commit is the hand-over; nothing is published
    # from the web request.
    dispatched_at: Mapped[Optional[datetime]]

    unit: Mapped[Unit] = relationship(back_populates="work_order")

    __table_args__ = (
        # What the dispatchers poll for: small, whatever the size of the table.
        Index("ix_work_order_undispatched", "id",
              postgresql_where=text("status = 'pending' AND dispatched_at IS NULL"),
              sqlite_where=text("status = 'pending' AND dispatched_at IS NULL")),
    )
