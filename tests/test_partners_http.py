"""The partner API over real HTTP: werkzeug serving the app on 127.0.0.1, `requests` posting."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests
from sqlalchemy import func, select

from configurator.models import IdempotencyRecord, MaterialStock, Order
from configurator.services.stock import round_up
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
    """The first to commit places the order; each twin is refused at the key's record, rolls
    back its own order and answers with the first's. Exactly one order, twenty identical 201s."""
    headers = {**partner.headers, "Idempotency-Key": "burst-1"}

    def post(_):
        response = requests.post(f"{live_server}/partners/v1/orders", data=FORM,
                                 headers=headers, timeout=60)
        return response.status_code, response.content, response.headers.get("Location")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, range(20)))
    statuses = [status for status, _, _ in answers]
    assert set(statuses) == {201}, [answer[:2] for answer in answers if answer[0] != 201][:3]
    created = {(body, location) for status, body, location in answers if status == 201}
    assert len(created) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == 1
    record = db.session.scalar(select(IdempotencyRecord))
    assert record.state == "done" and record.order_id is not None
    # the twins rolled back everything: stock is reserved for the one order only
    needed: dict[str, Decimal] = {}
    for line in record.order.units[0].bill:
        needed[line["material"]] = needed.get(line["material"], 0) + Decimal(line["quantity"])
    needed = {material: round_up(quantity) for material, quantity in needed.items()}
    reserved = {row.material_id: row.reserved for row in db.session.scalars(
        select(MaterialStock).where(MaterialStock.reserved > 0))}
    assert reserved == needed
    retry = post(None)
    assert retry[0] == 201 and (retry[1], retry[2]) in created
