"""Partners who send orders by form post: their API keys, idempotency records, webhooks."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ._types import JSONType, utcnow
from .orders import Order


class Partner(db.Model):
    """A retailer or tailor that sells our products and submits its customers' designs."""
    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact_email: Mapped[str] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    api_keys: Mapped[list["ApiKey"]] = relationship(
        back_populates="partner", order_by="ApiKey.id", cascade="all, delete-orphan")
    webhooks: Mapped[list["Webhook"]] = relationship(
        back_populates="partner", order_by="Webhook.id", cascade="all, delete-orphan")
    staff: Mapped[list["PartnerStaff"]] = relationship(
        back_populates="partner", order_by="PartnerStaff.id", cascade="all, delete-orphan")


class ApiKey(db.Model):
    """A bearer key; only its SHA-256 is stored, the prefix is kept to tell keys apart."""
    __tablename__ = "partner_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(24))  # "pk_live_AbC1" for display
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[Optional[datetime]]

    partner: Mapped[Partner] = relationship(back_populates="api_keys")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class PartnerStaff(db.Model):
    """A person at a partner who may submit orders by hand on the staff page."""
    __tablename__ = "partner_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="staff")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class IdempotencyRecord(db.Model):
    """The first answer to a partner's `Idempotency-Key`; the unique constraint settles races."""
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("partner_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request body
    # Written "done", with the answer, in the order's own transaction (services/idempotency.py);
    # "processing" is a claim of the previous protocol, made before the order.
    state: Mapped[str] = mapped_column(String(16), default="processing")  # processing | done
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("order.id"))
    response_status: Mapped[Optional[int]] = mapped_column(Integer)
    response_body: Mapped[Optional[str]] = mapped_column(Text)
    response_headers: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Optional[Order]] = relationship()


class Webhook(db.Model):
    """A partner URL told about every status change of the partner's units."""
    __tablename__ = "partner_webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Kept readable: it signs every delivery (HMAC-SHA256) and the partner verifies with it.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="webhooks")
    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        back_populates="webhook", order_by="WebhookDelivery.id.desc()",
        cascade="all, delete-orphan")


class WebhookDelivery(db.Model):
    """One event for one webhook: its exact body, its attempts and the outcome (the delivery
    log)."""
    __tablename__ = "partner_webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("partner_webhook.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body exactly as signed
    # pending | delivered | failed
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, index=True)
    last_status_code: Mapped[Optional[int]] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # [{at, status_code, error}]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[Optional[datetime]]

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")
