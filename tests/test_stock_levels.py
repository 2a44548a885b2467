"""The stock levels the shop shows: read at most every STOCK_LEVELS_MAX_AGE seconds per process,
read again at once after a refusal for stock or a restock here; orders always check the stock
as stored."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import update

from configurator import ConfigurationError, create_app
from configurator.models import MaterialStock
from configurator.services import stock
from configurator.services.orders import OutOfStock, UnitRequest, place_order
from conftest import complete_design

URL = "/api/products/suit/propagate"


@pytest.fixture
def suit(catalog):
    return catalog.products["suit"]


@pytest.fixture
def cloth(db, suit):
    """The material of the fabric the test design uses, its stock rows seeded."""
    design = complete_design(suit)
    stock.ensure_stock(suit)
    db.session.commit()
    return suit.option("fabric").choice(design["options"]["fabric"]).material


def _sold_out_elsewhere(db, suit, material: str) -> None:
    """What another worker process's restock to zero looks like from here: the row changes,
    nothing in this process hears of it."""
    db.session.execute(update(MaterialStock).where(
        MaterialStock.product_id == suit.id, MaterialStock.material_id == material)
        .values(on_hand=Decimal(0), reserved=Decimal(0)))
    db.session.commit()


def _fabric_offered(client, suit) -> dict:
    """The chosen fabric's state in the live page's answer for the complete design."""
    design = complete_design(suit)
    answer = client.post(URL, json={"design": design})
    assert answer.status_code == 200
    return answer.get_json()["options"]["fabric"][design["options"]["fabric"]]


def test_the_shop_shows_what_it_read_until_it_is_max_age_old(app, client, db, suit, cloth):
    app.config["STOCK_LEVELS_MAX_AGE"] = 3600
    assert _fabric_offered(client, suit)["available"]
    _sold_out_elsewhere(db, suit, cloth)
    assert _fabric_offered(client, suit)["available"]  # what this process read, not an hour ago
    assert stock.stored_levels(suit)[cloth] == 0
    app.config["STOCK_LEVELS_MAX_AGE"] = 0.05  # (a shorter max age than the time gone by)
    time.sleep(0.1)
    state = _fabric_offered(client, suit)
    assert not state["available"]
    assert any("out of stock" in reason["message"] for reason in state["reasons"])


def test_with_max_age_zero_every_ask_reads_the_stock(app, client, db, suit, cloth):
    app.config["STOCK_LEVELS_MAX_AGE"] = 0
    assert _fabric_offered(client, suit)["available"]
    _sold_out_elsewhere(db, suit, cloth)
    assert not _fabric_offered(client, suit)["available"]


def test_an_order_refused_for_stock_makes_the_shop_read_again(
        app, client, db, suit, cloth, customer):
    app.config["STOCK_LEVELS_MAX_AGE"] = 3600
    assert _fabric_offered(client, suit)["available"]
    _sold_out_elsewhere(db, suit, cloth)
    assert _fabric_offered(client, suit)["available"]  # not read again for an hour...
    with pytest.raises(OutOfStock):  # ...but the order checks the stock as stored
        place_order(customer, [UnitRequest("suit", complete_design(suit))])
    db.session.rollback()
    assert not _fabric_offered(client, suit)["available"]  # and the shop now says so


def test_a_restock_in_this_process_is_shown_at_once(app, client, db, suit, cloth):
    app.config["STOCK_LEVELS_MAX_AGE"] = 3600
    assert _fabric_offered(client, suit)["available"]
    stock.set_on_hand(suit, cloth, Decimal(0))
    db.session.commit()
    assert not _fabric_offered(client, suit)["available"]
    stock.set_on_hand(suit, cloth, Decimal(500))
    db.session.commit()
    assert _fabric_offered(client, suit)["available"]


def test_callers_change_their_own_copy(app, db, suit, cloth):
    app.config["STOCK_LEVELS_MAX_AGE"] = 3600
    first = stock.levels(suit)
    first[cloth] = Decimal(-1)
    assert stock.levels(suit)[cloth] == stock.stored_levels(suit)[cloth] > 0


@pytest.mark.parametrize("value", ["soon", -1, True, None])
def test_a_max_age_that_is_no_number_of_seconds_is_refused(app_config, value):
    with pytest.raises(ConfigurationError, match="CONFIGURATOR_STOCK_LEVELS_MAX_AGE is .*"
                                                 "a number of seconds, 0 or more"):
        create_app({**app_config, "STOCK_LEVELS_MAX_AGE": value})
