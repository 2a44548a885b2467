"""The shop without JavaScript, through the Flask test client: catalog, configurator, drafts,
order, tracking; errors next to their fields; CSRF on every form; user text escaped."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from configurator.models import Draft, Order, Unit
from configurator.services import stock
from conftest import complete_design, csrf_from


@pytest.fixture
def suit(catalog):
    return catalog.products["suit"]


def form_fields(design: dict, **extra) -> dict:
    data = {f"option_{k}": v for k, v in design["options"].items()}
    data.update({f"measure_{k}": str(v) for k, v in design["measurements"].items()})
    data.update({f"text_{k}": v for k, v in design["texts"].items()})
    return {**data, **extra}


def post_design(client, product_id: str, design: dict, action: str, **extra):
    page = client.get(f"/products/{product_id}")
    data = form_fields(design, csrf_token=csrf_from(page.data), action=action, **extra)
    return client.post(f"/products/{product_id}", data=data)


def order_units(client, designs: list[tuple[str, dict, str]]):
    for product_id, design, label in designs:
        response = post_design(client, product_id, design, "add", label=label)
        assert response.status_code == 302, response.data.decode()[:2000]


def checkout(client, **fields):
    page = client.get("/order")
    data = {"name": "Ana Sousa", "email": "ana@example.com",
            "address": "Rua das Flores 12\n4050-262 Porto", **fields}
    return client.post("/order", data={**data, "csrf_token": csrf_from(page.data)})


def test_catalog_lists_every_product_with_picture_and_from_price(client, catalog):
    html = client.get("/").data.decode()
    for spec in catalog.products.values():
        assert spec.name in html and f"/products/{spec.id}" in html
        assert f"img/{spec.image}" in html
    assert re.search(r"from <strong>EUR \d+\.\d\d</strong>", html)


def test_configurator_shows_every_option_measurement_and_text(client, suit):
    html = client.get("/products/suit").data.decode()
    for option in suit.options:
        assert f'data-option="{option.id}"' in html
    for m in suit.measurements:
        assert f'name="measure_{m.id}"' in html and f'id="range-{m.id}"' in html
    for t in suit.texts:
        assert f'name="text_{t.id}"' in html
    assert 'name="csrf_token"' in html


def test_swatches_show_the_colour_chip_of_each_choice(client, suit):
    html = client.get("/products/suit").data.decode()
    swatch = next(o for o in suit.options if o.display == "swatch")
    assert f'<rect width="1" height="1" fill="{swatch.choices[0].colour}"/>' in html


def test_posting_shows_each_error_next_to_its_field(client, suit):
    design = complete_design(suit)
    design["measurements"]["chest"] = "lots"
    response = post_design(client, "suit", design, "add")
    html = response.data.decode()
    assert response.status_code == 200
    errors = re.search(r'data-errors-for="measure_chest"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "Please enter a number in cm" in errors
    assert "Please check the" in html


def test_out_of_range_measurement_is_explained_in_the_shoppers_words(client, suit):
    design = complete_design(suit)
    design["measurements"]["chest"] = 9999
    html = post_design(client, "suit", design, "add").data.decode()
    errors = re.search(r'data-errors-for="measure_chest"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "must be between" in errors and "9999" in errors


def test_a_forbidden_combination_disables_the_choice_with_its_reason(client, suit):
    rule = next(r for r in suit.rules if "lapel" in r.source and "fabric" in r.source)
    fabric = suit.option("fabric")
    linen = next(c for c in fabric.choices if c.attributes.get("composition") == "linen")
    design = {"options": {"fabric": linen.id}, "measurements": {}, "texts": {}}
    html = post_design(client, "suit", design, "update").data.decode()
    peak = re.search(r'<div class="choice unavailable" data-choice="peak">(.*?)</div>', html, re.S)
    assert peak, "the peak lapel should be shown unavailable"
    assert "disabled" in peak.group(1) and rule.message in html


def test_update_without_choices_does_not_shout_required(client, suit):
    html = post_design(client, "suit", {"options": {}, "measurements": {}, "texts": {}},
                       "update").data.decode()
    assert "Please choose" not in html


def test_post_without_csrf_token_is_refused(client, db, suit):
    response = client.post("/products/suit", data=form_fields(complete_design(suit), action="save"))
    assert response.status_code == 400
    assert db.session.execute(select(func.count()).select_from(Draft)).scalar_one() == 0


def test_saving_a_draft_gives_a_link_that_restores_the_design_exactly(client, db, suit):
    design = complete_design(suit, {"pieces": "three"})
    response = post_design(client, "suit", design, "save")
    assert response.status_code == 302
    share = response.headers["Location"]
    assert re.search(r"/d/[\w-]{30,}$", share)
    draft = db.session.execute(select(Draft)).scalar_one()
    assert draft.design == design
    html = client.get(client.get(share).headers["Location"]).data.decode()
    for option_id, choice_id in design["options"].items():
        assert re.search(rf'name="option_{option_id}"[^>]*value="{re.escape(choice_id)}"\s+checked',
                         html), option_id
    assert f'value="{design["measurements"]["chest"]}"' in html


def test_a_new_draft_from_a_draft_keeps_the_old_link(client, db, suit):
    design = complete_design(suit)
    first = post_design(client, "suit", design, "save").headers["Location"]
    token = first.rsplit("/", 1)[1]
    grey = complete_design(suit, {"fabric": "charcoal-plain-s110"})
    page = client.get(f"/products/suit?draft={token}")
    data = form_fields(grey, csrf_token=csrf_from(page.data), action="save", parent=token)
    second = client.post("/products/suit", data=data).headers["Location"]
    assert second != first
    drafts = db.session.execute(select(Draft).order_by(Draft.id)).scalars().all()
    assert drafts[0].design == design and drafts[1].parent_token == token


def test_two_suits_for_two_people_are_ordered_and_tracked(client, db, suit):
    anna, rui = complete_design(suit), complete_design(suit, {"pieces": "three"})
    order_units(client, [("suit", anna, "for Anna"), ("suit", rui, "for Rui")])
    cart = client.get("/order").data.decode()
    assert "for Anna" in cart and "for Rui" in cart
    response = checkout(client)
    assert response.status_code == 302
    order = db.session.execute(select(Order)).scalar_one()
    assert [u.label for u in order.units] == ["for Anna", "for Rui"]
    assert order.units[1].design == rui
    tracking = client.get(response.headers["Location"]).data.decode()
    assert order.reference in tracking and order.units[0].code in tracking
    assert 'aria-current="step"' in tracking and "Promised to ship by" in tracking


def test_checkout_errors_are_shown_next_to_the_fields(client, db, suit):
    order_units(client, [("suit", complete_design(suit), "")])
    response = checkout(client, email="not-an-email", name="")
    html = response.data.decode()
    assert response.status_code == 422
    assert re.search(r'data-errors-for="email"[^>]*>.*?check the email', html, re.S)
    assert re.search(r'data-errors-for="name"[^>]*>.*?enter your name', html, re.S)
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0


def test_material_running_out_before_checkout_is_reported_on_the_unit(client, db, suit):
    design = complete_design(suit)
    order_units(client, [("suit", design, "")])
    material = suit.option("fabric").choice(design["options"]["fabric"]).material
    stock.set_on_hand(suit, material, Decimal("0.5"))
    db.session.commit()
    html = checkout(client).data.decode()
    assert "out of stock" in html
    assert db.session.execute(select(func.count()).select_from(Unit)).scalar_one() == 0


def test_cloth_enough_for_one_suit_but_not_two_is_flagged_before_checkout(client, db, suit):
    from configurator.domain import bill_of_materials

    design = complete_design(suit)
    material = suit.option("fabric").choice(design["options"]["fabric"]).material
    one = next(line.quantity for line in bill_of_materials(suit, design)
               if line.material == material)
    stock.set_on_hand(suit, material, stock.round_up(one * Decimal("1.5")))
    db.session.commit()
    order_units(client, [("suit", design, "for Ana"), ("suit", design, "for Rui")])
    html = client.get("/order").get_data(as_text=True)
    assert html.count("units 1, 2 need") == 2 and "Choose another option" in html


def test_sold_out_cloth_is_shown_unavailable_in_the_configurator(client, db, suit):
    design = complete_design(suit)
    material = suit.option("fabric").choice(design["options"]["fabric"]).material
    stock.set_on_hand(suit, material, Decimal("0"))
    db.session.commit()
    other = next(c for c in suit.option("fabric").choices if c.material != material)
    html = post_design(client, "suit", {**design, "options": {
        **design["options"], "fabric": other.id}}, "update").data.decode()
    chosen = design["options"]["fabric"]
    block = re.search(rf'data-choice="{chosen}">(.*?)</div>', html, re.S).group(1)
    assert "disabled" in block and "out of stock" in block


def test_a_new_design_can_start_from_an_ordered_unit(client, db, suit):
    design = complete_design(suit, {"pieces": "three"})
    order_units(client, [("suit", design, "for Rui")])
    tracking = client.get(checkout(client).headers["Location"]).data.decode()
    again = re.search(r'href="([^"]+)">Start a new design from this one', tracking).group(1)
    html = client.get(again.replace("&amp;", "&")).data.decode()
    assert re.search(r'name="option_pieces"[^>]*value="three"\s+checked', html)
    assert 'value="for Rui"' in html


def test_user_text_is_escaped_everywhere(client, db, suit):
    evil = '<script>alert("x")</script>'
    order_units(client, [("suit", complete_design(suit), evil)])
    response = checkout(client, name=evil, address=evil)
    tracking = client.get(response.headers["Location"]).data.decode()
    assert "<script>alert" not in tracking
    assert "&lt;script&gt;alert" in tracking


@pytest.mark.parametrize("url", [
    "/products/nothing", "/d/short", "/d/" + "x" * 40, "/track/" + "y" * 43,
    "/products/suit?draft=%00%ff", "/products/suit?order=abc&unit=zz",
    "/order/remove/99",
])
def test_odd_addresses_answer_without_a_server_error(client, url):
    response = client.get(url) if "remove" not in url else client.post(url)
    assert response.status_code < 500


def test_garbage_form_posts_never_cause_a_server_error(client, suit):
    page = client.get("/products/suit")
    token = csrf_from(page.data)
    for data in ({"option_fabric": "\x00" * 10, "measure_chest": "1e999"},
                 {"measure_chest": "NaN", "measure_waist": "-0", "text_monogram": "ü" * 500},
                 {"action": "nonsense", "parent": "../../etc"},
                 {"action": "save", "option_pieces": ["two", "three"]}):
        response = client.post("/products/suit", data={**data, "csrf_token": token})
        assert response.status_code in (200, 302, 400), response.data[:500]


def test_cloth_too_short_for_this_design_is_shown_out_of_stock(client, db, suit):
    design = complete_design(suit)
    material = suit.option("fabric").choice(design["options"]["fabric"]).material
    stock.set_on_hand(suit, material, Decimal("0.5"))  # some left, but not a suit's length
    db.session.commit()
    html = post_design(client, "suit", design, "add").data.decode()
    errors = re.search(r'data-errors-for="option_fabric"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "out of stock" in errors
    assert db.session.execute(select(func.count()).select_from(Draft)).scalar_one() == 0


def test_a_suit_and_a_washing_machine_in_one_order(client, db, catalog):
    suit, washer = catalog.products["suit"], catalog.products["washing-machine"]
    order_units(client, [("suit", complete_design(suit), "for Ana"),
                         ("washing-machine", complete_design(washer), "kitchen")])
    tracking = client.get(checkout(client).headers["Location"]).data.decode()
    assert suit.name in tracking and washer.name in tracking
    order = db.session.execute(select(Order)).scalar_one()
    assert [u.product_id for u in order.units] == ["suit", "washing-machine"]
    assert order.promised_date == max(u.promised_date for u in order.units)


def test_a_unit_can_be_removed_from_the_order(client, suit):
    order_units(client, [("suit", complete_design(suit), "first"),
                         ("suit", complete_design(suit), "second")])
    page = client.get("/order")
    client.post("/order/remove/0", data={"csrf_token": csrf_from(page.data)})
    html = client.get("/order").data.decode()
    assert "· second" in html and "· first" not in html


def test_without_javascript_a_default_gives_way_and_the_page_says_why(client, suit):
    page = client.get("/products/suit").get_data(as_text=True)
    three = re.search(r'<input type="radio" name="option_pieces"[^>]*value="three"[^>]*>', page)
    assert "disabled" not in three.group(0)  # the default belt loops do not block it
    fields = {name: value for name, value in re.findall(
        r'<input type="radio" name="(option_[^"]+)"[^>]*value="([^"]+)"\s+checked', page)}
    auto = re.search(r'name="auto" id="auto-picked" value="([^"]*)"', page).group(1)
    response = client.post("/products/suit", data={
        **fields, "option_pieces": "three", "action": "add", "label": "",
        "auto": auto.replace("&#34;", '"'), "csrf_token": csrf_from(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # shown first, not added to the order unseen
    assert "Waistband is now" in html and "waistcoat" in html
    assert re.search(r'name="option_waistband"[^>]*value="side-adjusters"\s+checked', html)
