"""The partner API over real HTTP: werkzeug serving the app on 127.0.0.1, `requests` posting."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from configurator.models import IdempotencyRecord, Order
from partners_support import FORM, app_config, partner  # noqa: F401


def test_a_post_over_http_places_an_order_that_can_be_read_back(live_server, partner):
    response = requests.post(f"{live_server}/partners/v1/orders", data=FORM,
                             headers=partner.headers, timeout=30)
    assert response.status_code == 201
    location = response.headers["Location"]
    assert location.startswith(live_server)
    order = requests.get(location, headers=partner.headers, timeout=30)
    assert order.status_code == 200 and order.json() == response.json()


def test_a_missing_key_over_http_is_401_json(live_server):
    response = requests.post(f"{live_server}/partners/v1/orders", data=FORM, timeout=30)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"


def test_twenty_concurrent_posts_with_one_key_make_exactly_one_order(live_server, db, partner):
    """The first to claim the key places the order; twins still in flight get 409, later ones
    the first answer. Exactly one order, and every 201 is byte-for-byte the same."""
    headers = {**partner.headers, "Idempotency-Key": "burst-1"}

    def post(_):
        response = requests.post(f"{live_server}/partners/v1/orders", data=FORM,
                                 headers=headers, timeout=60)
        return response.status_code, response.content, response.headers.get("Location")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, range(20)))
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {201, 409}, statuses
    created = {(body, location) for status, body, location in answers if status == 201}
    assert len(created) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == 1
    record = db.session.scalar(select(IdempotencyRecord))
    assert record.state == "done" and record.order_id is not None
    retry = post(None)
    assert retry[0] == 201 and (retry[1], retry[2]) in created
