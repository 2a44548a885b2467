"""The configurator's option fieldsets, measurements and fresh-page engine work are cached
(see `shop_fragments` and `shop_pages`): a cached fragment never shows another product's,
another state's or older stock's HTML."""
from __future__ import annotations

import re
from decimal import Decimal

from configurator.services import stock
from conftest import csrf_from


def _measure(html: str, measurement_id: str) -> str:
    return re.search(rf'<div class="measure" data-measure="{measurement_id}">(.*?)</div>',
                     html, re.S).group(1)


def _choice(html: str, choice_id: str) -> str:
    return re.search(rf'<div class="choice[^"]*" data-choice="{choice_id}">(.*?)</div>',
                     html, re.S).group(1)


def test_two_products_with_a_measurement_of_the_same_id_show_their_own(client, catalog):
    suit, shirt = catalog.products["suit"], catalog.products["shirt"]
    assert suit.measurement("waist").label != shirt.measurement("waist").label
    suit_page = client.get("/products/suit").get_data(as_text=True)
    shirt_page = client.get("/products/shirt").get_data(as_text=True)
    assert f">{suit.measurement('waist').label} <" in _measure(suit_page, "waist")
    assert f">{shirt.measurement('waist').label} <" in _measure(shirt_page, "waist")


def test_a_typed_measurement_and_its_error_are_not_the_fresh_pages(client):
    fresh = client.get("/products/suit").get_data(as_text=True)
    html = client.post("/products/suit", data={
        "measure_chest": '12"<b>', "action": "update",
        "csrf_token": csrf_from(fresh)}).get_data(as_text=True)
    chest = _measure(html, "chest")
    assert 'value="12&#34;&lt;b&gt;"' in chest and "Please enter a number" in chest
    assert 'value=""' in _measure(client.get("/products/suit").get_data(as_text=True), "chest")


def test_a_fresh_page_follows_the_stock_after_it_was_shown(client, db, catalog):
    suit = catalog.products["suit"]
    fabric = suit.option("fabric").choices[-1]
    before = client.get("/products/suit").get_data(as_text=True)
    assert "unavailable" not in re.search(
        rf'<div class="choice([^"]*)" data-choice="{fabric.id}">', before).group(1)
    stock.set_on_hand(suit, fabric.material, Decimal("0"))
    db.session.commit()
    after = client.get("/products/suit").get_data(as_text=True)
    assert "out of stock" in _choice(after, fabric.id)
    assert 'class="choice unavailable"' in re.search(
        rf'<div class="choice[^"]*" data-choice="{fabric.id}">', after).group(0)
