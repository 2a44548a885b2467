"""Webhooks: a unit status change of a partner's order reaches the partner's URL, signed,
retried with backoff, and logged; nothing is sent for a change that did not happen."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from configurator.models import Partner, Unit, WebhookDelivery
from configurator.models._types import utcnow
from configurator.services import remakes, webhooks
from partners_support import FORM, app_config, partner  # noqa: F401

units = pytest.importorskip("configurator.services.units", reason="unit moves land with issue 4")


class Receiver:
    """A partner's endpoint on 127.0.0.1: records every request, answers `status`."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wsgi(self, environ, start_response):
        request = Request(environ)
        self.requests.append((dict(request.headers), request.get_data()))
        return Response("ok", status=self.status)(environ, start_response)


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.thread.join()
    r.server.server_close()


@pytest.fixture
def hook(db, partner, receiver):
    return webhooks.register(db.session.get(Partner, partner.id), receiver.url)


def place(client, partner) -> dict:
    response = client.post("/partners/v1/orders", data=FORM, headers=partner.headers)
    assert response.status_code == 201
    return response.get_json()


def verify(secret: str, headers: dict, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in headers["X-Configurator-Signature"].split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


def test_a_status_change_is_delivered_signed_after_commit(app, client, db, hook, receiver,
                                                          partner):
    app.config["WEBHOOK_DELIVERY"] = "inline"
    order = place(client, partner)
    units.advance_unit(order["units"][0]["id"], "sewing", actor="planner@example.com")
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert verify(hook.secret, headers, body)
    event = json.loads(body)
    assert event["type"] == headers["X-Configurator-Event"] == "unit.status_changed"
    assert event["data"]["unit"]["from_status"] == "queued"
    assert event["data"]["unit"]["to_status"] == "sewing"
    assert event["data"]["order"]["partner_reference"] == "PO-1001"
    delivery = db.session.scalar(select(WebhookDelivery))
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up(client, db, hook, receiver,
                                                                  partner):
    receiver.status = 500
    order = place(client, partner)
    units.advance_unit(order["units"][0]["id"], "sewing", actor="planner")
    now = utcnow()
    waits = []
    for _ in range(webhooks.MAX_ATTEMPTS):
        assert webhooks.deliver_due(now) == 0
        delivery = db.session.scalar(select(WebhookDelivery))
        if delivery.next_attempt_at is None:
            break
        waits.append(delivery.next_attempt_at - now)
        assert webhooks.deliver_due(delivery.next_attempt_at - timedelta(seconds=1)) == 0
        now = delivery.next_attempt_at
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert len(delivery.log) == webhooks.MAX_ATTEMPTS and "HTTP 500" in delivery.last_error
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    receiver.status = 204
    webhooks.retry_now(delivery)
    assert webhooks.deliver_due() == 1


def test_a_change_that_is_rolled_back_sends_nothing(client, db, hook, partner):
    order = place(client, partner)
    with pytest.raises(units.InvalidTransition):
        units.advance_unit(order["units"][0]["id"], "shipped", actor="planner")
    assert db.session.scalar(select(WebhookDelivery)) is None


def test_an_unreachable_endpoint_is_logged(client, db, partner):
    webhooks.register(db.session.get(Partner, partner.id), "http://127.0.0.1:9/closed")
    order = place(client, partner)
    units.advance_unit(order["units"][0]["id"], "sewing", actor="planner")
    webhooks.deliver_due()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "ConnectionError" in delivery.last_error


def test_only_http_urls_can_be_registered(db, partner):
    with pytest.raises(webhooks.WebhookError):
        webhooks.register(db.session.get(Partner, partner.id), "file:///etc/passwd")


def _shipped_unit(client, db, partner) -> int:
    unit_id = place(client, partner)["units"][0]["id"]
    while (step := units.next_step(db.session.get(Unit, unit_id))) is not None:
        units.advance_unit(unit_id, step[0], actor="floor@example.com")
    return unit_id


def test_a_remake_request_and_its_approval_reach_the_partner(app, client, db, hook, receiver,
                                                             partner):
    unit_id = _shipped_unit(client, db, partner)
    webhooks.deliver_due()  # the moves to shipped
    receiver.requests.clear()
    app.config["WEBHOOK_DELIVERY"] = "inline"
    request = remakes.request_remake(unit_id, "fit", "Too tight <across> the chest",
                                     {"chest": "102"})
    remade = remakes.approve_remake(request.id, None, "Cut 1.5 cm wider")
    events = [json.loads(body) for _, body in receiver.requests]
    assert [e["type"] for e in events] == ["remake.requested", "remake.approved"]
    assert all(verify(hook.secret, headers, body) for headers, body in receiver.requests)
    asked, approved = events
    assert asked["data"]["order"]["partner_reference"] == "PO-1001"
    assert asked["data"]["unit"]["id"] == unit_id
    assert asked["data"]["remake"] | {"requested_at": None} == {
        "id": request.id, "category": "fit", "description": "Too tight <across> the chest",
        "measurements": {"chest": {"from": 100.5, "to": 102}}, "status": "requested",
        "requested_at": None}
    decision = approved["data"]["remake"]
    assert (decision["status"], decision["note"]) == ("approved", "Cut 1.5 cm wider")
    assert decision["remake_unit"]["id"] == remade.id
    assert decision["remake_unit"]["code"] == remade.code and remade.code.startswith("U-")
    assert decision["remake_unit"]["status"] == "queued"
    # the remade unit then moves like any unit, with its own status events
    units.advance_unit(remade.id, "sewing", actor="floor@example.com")
    moved = json.loads(receiver.requests[-1][1])
    assert moved["type"] == "unit.status_changed" and moved["data"]["unit"]["id"] == remade.id


def test_a_declined_remake_reaches_the_partner_with_the_reason(client, db, hook, partner):
    unit_id = _shipped_unit(client, db, partner)
    request = remakes.request_remake(unit_id, "quality", "A seam came open", {})
    remakes.decline_remake(request.id, None, "Please send it back for a repair instead")
    rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    declined = json.loads(rows[-1].payload)
    assert [r.event_type for r in rows[-2:]] == ["remake.requested", "remake.declined"]
    assert declined["data"]["remake"]["note"] == "Please send it back for a repair instead"
    assert "remake_unit" not in declined["data"]["remake"]


def test_a_refused_remake_request_sends_nothing(client, db, hook, partner):
    unit_id = place(client, partner)["units"][0]["id"]  # not shipped yet
    with pytest.raises(remakes.RemakeRejected):
        remakes.request_remake(unit_id, "fit", "Too tight", {})
    assert db.session.scalar(select(WebhookDelivery)) is None
