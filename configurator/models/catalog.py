"""Live factory state beside the specs: stock levels, booked capacity, spec sources by version."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._types import Quantity, utcnow


class MaterialStock(db.Model):
    """The live stock of one material of one product family, seeded from the spec."""
    __tablename__ = "material_stock"
    __table_args__ = (UniqueConstraint("product_id", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    material_id: Mapped[str] = mapped_column(String(64))
    on_hand: Mapped[Decimal] = mapped_column(Quantity)
    reserved: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class CapacityBooking(db.Model):
    """Standard minutes booked on one station on one working day."""
    __tablename__ = "capacity_booking"
    __table_args__ = (UniqueConstraint("station_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer, default=0)


class SpecSource(db.Model):
    """The exact text of a spec version, so an order renders the same years later."""
    __tablename__ = "spec_source"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    product_text: Mapped[str] = mapped_column(Text)
    line_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
