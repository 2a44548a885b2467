"""The JSON endpoint behind the live configurator: propagate, price, preview; never a 500."""
from __future__ import annotations

import pytest

from conftest import complete_design

URL = "/api/products/{}/propagate"


@pytest.fixture
def suit(catalog):
    return catalog.products["suit"]


def ask(client, product_id: str, body):
    return client.post(URL.format(product_id), json=body)


def test_answer_has_choices_ranges_price_and_preview(client, suit):
    answer = ask(client, "suit", {"options": {}, "measurements": {}, "texts": {}}).get_json()
    assert set(answer["options"]) == {o.id for o in suit.options}
    assert set(answer["measurements"]) == {m.id for m in suit.measurements}
    assert answer["price"]["complete"] is False
    assert answer["preview"].startswith("<svg") and answer["feasible"] is True


def test_a_choice_ruled_out_by_the_fabric_comes_back_with_its_reason(client, suit):
    linen = next(c for c in suit.option("fabric").choices
                 if c.attributes.get("composition") == "linen")
    answer = ask(client, "suit", {"options": {"fabric": linen.id}}).get_json()
    peak = answer["options"]["lapel"]["peak"]
    assert peak["available"] is False and peak["reasons"][0]["message"]


def test_a_choice_ruled_out_through_another_option_names_the_rule_linking_them(client, suit):
    # The shawl collar rules out flap pockets; a ticket pocket needs flap pockets. The ticket
    # pocket says that (not "not possible together ..."), the flap pockets say why not.
    shawl = next(r for r in suit.rules if "lapel == 'shawl'" in r.source and "pockets" in r.source)
    ticket = next(r for r in suit.rules
                  if "ticket_pocket == 'yes'" in r.source and "pockets != 'flap'" in r.source)
    answer = ask(client, "suit", {"options": {"lapel": "shawl"}}).get_json()
    assert answer["options"]["ticket_pocket"]["yes"] == {
        "available": False, "reasons": [{"rule": ticket.id, "message": ticket.message}]}
    assert answer["options"]["pockets"]["flap"]["reasons"] == [
        {"rule": shawl.id, "message": shawl.message}]


def test_a_complete_design_is_priced_with_its_parts(client, suit):
    answer = ask(client, "suit", complete_design(suit)).get_json()
    price = answer["price"]
    assert price["complete"] is True and answer["violations"] == []
    from decimal import Decimal
    assert Decimal(price["materials"]) + Decimal(price["labour"]) + Decimal(
        price["margin"]) == Decimal(price["total"])


def test_measurements_typed_with_a_comma_or_unit_are_understood(client, suit):
    answer = ask(client, "suit", {"measurements": {"chest": "102,5 cm"}}).get_json()
    assert answer["design"]["measurements"]["chest"] == 102.5
    bad = ask(client, "suit", {"measurements": {"chest": "a lot"}}).get_json()
    assert any(v["rule"] == "number" and v["fields"] == ["measurements.chest"]
               for v in bad["violations"])


def test_choosing_three_pieces_makes_the_waistcoat_options_apply(client, suit):
    conditional = [o.id for o in suit.options if o.when is not None]
    two = ask(client, "suit", {"options": {"pieces": "two"}}).get_json()
    three = ask(client, "suit", {"options": {"pieces": "three"}}).get_json()
    assert any(two["active"][o] is False for o in conditional)
    assert all(three["active"][o] for o in conditional if "waistcoat" in o)


def test_the_endpoint_changes_nothing_so_needs_no_csrf_token(client, db, suit):
    from sqlalchemy import func, select

    from configurator.models import Draft, MaterialStock
    assert ask(client, "suit", complete_design(suit)).status_code == 200
    for model in (Draft, MaterialStock):
        assert db.session.execute(select(func.count()).select_from(model)).scalar_one() == 0


@pytest.mark.parametrize("body", [
    None, "text", 12, [], {"options": "x"}, {"options": {"fabric": 7}},
    {"measurements": {"chest": [1, 2]}}, {"measurements": {"chest": "1e400"}},
    {"measurements": {"unknown": 3}}, {"texts": {"monogram": "<b>" * 100}},
    {"options": {"x" * 500: "y"}}, {"design": {"options": {"pieces": "three"}}},
    {"measurements": {"chest": 10**500}}, {"measurements": {"chest": float("inf")}},
    {"measurements": {"chest": -1e308}},
])
def test_any_body_gets_an_answer_not_a_server_error(client, body):
    response = client.post(URL.format("suit"), json=body)
    assert response.status_code in (200, 400)
    assert response.is_json


def test_non_json_and_unknown_products_are_refused_plainly(client):
    assert client.post(URL.format("suit"), data="options=1").status_code == 400
    assert client.post(URL.format("rocket"), json={}).status_code == 404


def test_a_script_hammering_the_engine_is_slowed_down_with_a_clear_answer(app, client):
    app.config["PROPAGATE_RATE_LIMIT"] = "3 per minute"
    answers = [ask(client, "suit", {"options": {}}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert "Retry after" in answers[-1].get_json()["error"]
    assert int(answers[-1].headers["Retry-After"]) > 0


def test_a_default_the_shopper_never_chose_gives_way_to_their_choice(client, suit):
    from configurator.web.shop_pages import default_design

    defaults = default_design(suit)
    picked = dict(defaults["options"])
    answer = ask(client, "suit", {"design": defaults, "auto": picked}).get_json()
    assert answer["options"]["pieces"]["three"]["available"] is True  # not blocked by a default
    three = {**defaults, "options": {**defaults["options"], "pieces": "three"}}
    answer = ask(client, "suit", {"design": three, "auto": picked}).get_json()
    change = answer["changes"][0]
    assert (change["option"], change["was"]) == ("waistband", "belt-loops")
    assert answer["design"]["options"]["waistband"] == change["now"] != "belt-loops"
    assert "waistcoat" in change["message"] and answer["design"]["options"]["pieces"] == "three"
    assert answer["auto"]["waistband"] == change["now"] and "pieces" not in answer["auto"]


def test_what_the_shopper_chose_is_never_changed_for_them(client, suit):
    from configurator.web.shop_pages import default_design

    design = default_design(suit)
    design["options"].update(pieces="three", waistband="belt-loops")
    answer = ask(client, "suit", {"design": design, "auto": {}}).get_json()
    assert answer["changes"] == [] and answer["design"]["options"]["waistband"] == "belt-loops"
    assert answer["options"]["pieces"]["three"]["available"] is False
    assert answer["options"]["pieces"]["three"]["reasons"][0]["message"]


@pytest.mark.parametrize("value", ["1E+400", "-1E+400", "Infinity", "NaN"])
def test_absurd_numbers_are_explained_not_crashed_on(suit, value):
    from decimal import Decimal

    from configurator.domain import propagate, validate

    design = {"options": {}, "measurements": {"chest": Decimal(value)}, "texts": {}}
    chest = [v for v in validate(suit, design).violations if "measurements.chest" in v.fields]
    assert chest and chest[0].message.startswith("Chest must be")
    assert propagate(suit, design).price.complete is False
