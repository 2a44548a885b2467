"""Partner webhooks: signed JSON events, recorded with the change and delivered after commit.

An event is a `WebhookDelivery` row written in the transaction that changed the unit (an outbox),
so it exists exactly when the change does. Delivery happens after commit: in a background thread
(`WEBHOOK_DELIVERY = "background"`, the default), in the request (`"inline"`), or only by
`configurator partners deliver-webhooks` (`"manual"`, e.g. from cron). Failures are retried with
exponential backoff; every attempt is logged on the row and shown in the console.

Each request carries `X-Configurator-Signature: t=<unix time>,v1=<hex>` where `<hex>` is
HMAC-SHA256 of `"<t>.<body>"` keyed by the webhook's secret.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app
from sqlalchemy import event, select

from ..extensions import db
from ..models import Partner, Webhook, WebhookDelivery
from ..models._types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)  # 30 s, 1 min, 2 min, ... about 1 h in all
TIMEOUT_SECONDS = 10
USER_AGENT = "configurator-webhooks/1"


class WebhookError(ValueError):
    """A webhook cannot be registered as given."""


def register(partner: Partner, url: str) -> Webhook:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2000:
        raise WebhookError("The webhook URL must be an absolute http(s) URL, e.g. "
                           "https://partner.example/hooks/configurator.")
    hook = Webhook(partner=partner, url=url, secret="whsec_" + secrets.token_urlsafe(32))
    db.session.add(hook)
    db.session.commit()
    return hook


def set_active(hook: Webhook, active: bool) -> None:
    hook.active = active
    db.session.commit()


def sign(secret: str, timestamp: int, body: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def record_event(partner_id: int, event_type: str, data: dict) -> list[WebhookDelivery]:
    """Add one delivery per active webhook of the partner to the caller's transaction."""
    hooks = db.session.scalars(select(Webhook).where(
        Webhook.partner_id == partner_id, Webhook.active.is_(True))).all()
    rows = []
    for hook in hooks:
        event_id = "evt_" + uuid.uuid4().hex
        body = json.dumps({"id": event_id, "type": event_type,
                           "created": utcnow().isoformat() + "Z", "data": data},
                          sort_keys=True, default=str)
        row = WebhookDelivery(webhook=hook, event_id=event_id, event_type=event_type, payload=body,
                              status="pending", attempts=0, next_attempt_at=utcnow(), log=[])
        db.session.add(row)
        rows.append(row)
    if rows:
        _deliver_after_commit()
    return rows


def _deliver_after_commit() -> None:
    """Deliver once the caller's transaction commits; forget it if it rolls back."""
    mode = current_app.config.get("WEBHOOK_DELIVERY", "background")
    if mode == "manual":
        return
    session = db.session()
    session.info["webhooks_due"] = (current_app._get_current_object(), mode)
    if not session.info.get("webhooks_listening"):
        session.info["webhooks_listening"] = True
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)


def _after_commit(session) -> None:
    due = session.info.pop("webhooks_due", None)
    if due is None:
        return
    app, mode = due
    if mode == "inline":
        _deliver_in_app(app)  # a fresh app context, so a session of its own
    else:
        threading.Thread(target=_deliver_in_app, args=(app,), daemon=True,
                         name="webhook-delivery").start()


def _after_rollback(session) -> None:
    session.info.pop("webhooks_due", None)


def _deliver_in_app(app: Flask) -> None:
    with app.app_context():
        try:
            deliver_due()
        finally:
            db.session.remove()


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Try every pending delivery that is due; returns how many were delivered."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id).limit(limit)).all()
    return sum(attempt(delivery_id, now) for delivery_id in ids)


def attempt(delivery_id: int, now: datetime | None = None) -> bool:
    """POST one delivery once; record the outcome and when to try again."""
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.status != "pending":
        return False
    now = now or utcnow()
    status_code, error = _post(row.webhook, row)
    row.attempts += 1
    row.last_status_code, row.last_error = status_code, error
    row.log = [*row.log, {"at": now.isoformat() + "Z", "status_code": status_code, "error": error}]
    if error == "":
        row.status, row.delivered_at, row.next_attempt_at = "delivered", now, None
    elif row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at = "failed", None
    else:
        row.next_attempt_at = now + BASE_DELAY * 2 ** (row.attempts - 1)
    db.session.commit()
    return row.status == "delivered"


def _post(hook: Webhook, row: WebhookDelivery) -> tuple[int | None, str]:
    """(status code, "" on success or what went wrong)."""
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-Configurator-Event": row.event_type, "X-Configurator-Delivery": row.event_id,
        "X-Configurator-Signature": sign(hook.secret, int(time.time()), row.payload),
    }
    try:
        response = requests.post(hook.url, data=row.payload.encode(), headers=headers,
                                 timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def retry_now(delivery: WebhookDelivery) -> None:
    """An admin asks for another try of a failed or waiting delivery."""
    delivery.status, delivery.next_attempt_at = "pending", utcnow()
    _deliver_after_commit()
    db.session.commit()


def recent_deliveries(hook_ids: Sequence[int], limit: int = 50) -> list[WebhookDelivery]:
    if not hook_ids:
        return []
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id.in_(hook_ids))
        .order_by(WebhookDelivery.id.desc()).limit(limit)))
