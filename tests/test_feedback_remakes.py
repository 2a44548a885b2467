"""After delivery: customers rate shipped units and ask for remakes on the tracking page,
planners approve or decline them in the console, an approved remake becomes a new unit with a
work order marked REMAKE, and the console shows what comes back. Real app, database and PDFs."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from configurator.models import CapacityBooking, MaterialStock, Unit, UnitEvent
from configurator.models.feedback import RemakeRequest, UnitFeedback
from configurator.services import feedback, remakes
from configurator.services.units import advance_unit, next_step
from configurator.workorders.storage import storage
from conftest import csrf_from
from workorders_support import log_in, make_user, pdf_text, place, squash


def ship(db, unit_id: int) -> Unit:
    """Move a unit through every step of its routing to shipped, as the floor would."""
    while (step := next_step(db.session.get(Unit, unit_id))) is not None:
        advance_unit(unit_id, step[0], actor="floor@example.com")
    return db.session.get(Unit, unit_id)


@pytest.fixture
def shipped(db, catalog):
    """A shipped two-piece suit (chest 102 cm) in an order of one."""
    order = place(catalog)
    return ship(db, order.units[0].id)


def track_url(unit: Unit) -> str:
    return f"/track/{unit.order.tracking_token}"


def form_token(html: str, prefix: str) -> str:
    match = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(rf'id="{prefix}-csrf_token" name="{prefix}-csrf_token" type="hidden" '
                  r'value="([^"]+)"', html)
    assert match, f"no {prefix} form on the page"
    return match.group(1)


def rate(client, unit: Unit, **fields):
    html = client.get(track_url(unit)).get_data(as_text=True)
    p = f"u{unit.position}r"
    data = {f"{p}-{k}": v for k, v in fields.items()}
    return client.post(f"{track_url(unit)}/units/{unit.position}/rating",
                       data={**data, f"{p}-csrf_token": form_token(html, p)})


def ask_remake(client, unit: Unit, measurements: dict | None = None, **fields):
    html = client.get(track_url(unit)).get_data(as_text=True)
    p = f"u{unit.position}m"
    data = {f"{p}-{k}": v for k, v in fields.items()}
    data.update({f"{p}-measure_{k}": str(v) for k, v in (measurements or {}).items()})
    return client.post(f"{track_url(unit)}/units/{unit.position}/remake",
                       data={**data, f"{p}-csrf_token": form_token(html, p)})


def login(client):
    assert log_in(client).status_code == 302


@pytest.fixture
def planner(db, client):
    user = make_user()
    login(client)
    return user


def decide(client, request_id: int, decision: str, note: str = ""):
    page = client.get("/planner/remakes").get_data(as_text=True)
    p = f"r{request_id}"
    return client.post(f"/planner/remakes/{request_id}/{decision}", data={
        f"{p}-note": note, f"{p}-csrf_token": form_token(page, p)})


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# -- ratings ---------------------------------------------------------------------------------

def test_a_shipped_unit_is_rated_once_and_the_rating_can_be_changed(db, shipped):
    first = feedback.rate_unit(shipped.id, {"fit": 4, "quality": "5", "delivery": 3}, " snug ")
    received = first.received_at
    again = feedback.rate_unit(shipped.id, {"fit": 2, "quality": 5, "delivery": 3}, "")
    assert again.id == first.id and count(db, UnitFeedback) == 1
    assert (again.fit, again.quality, again.delivery, again.comment) == (2, 5, 3, "")
    assert again.received_at == received  # the month it counts in stays put


def test_a_unit_not_yet_shipped_cannot_be_rated(db, catalog, client):
    unit = place(catalog).units[0]
    with pytest.raises(feedback.FeedbackRejected, match="once it has shipped"):
        feedback.rate_unit(unit.id, {"fit": 5, "quality": 5, "delivery": 5})
    html = client.get(track_url(unit)).get_data(as_text=True)
    assert "Received it?" not in html and "Ask for a remake" not in html


def test_ratings_outside_one_to_five_name_the_field(db, shipped):
    with pytest.raises(feedback.FeedbackRejected) as caught:
        feedback.rate_unit(shipped.id, {"fit": 6, "quality": "x", "delivery": True})
    assert [p.field for p in caught.value.problems] == ["fit", "quality", "delivery"]
    assert count(db, UnitFeedback) == 0


def test_the_customer_confirms_receipt_and_rates_on_the_tracking_page(db, client, shipped):
    html = client.get(track_url(shipped)).get_data(as_text=True)
    assert "Received it? Tell us how it is" in html
    assert '<legend>Fit <span class="muted">(1 = poor, 5 = excellent)</span></legend>' in html
    response = rate(client, shipped, fit="4", quality="5", delivery="3", comment="Lovely cloth")
    assert response.status_code == 302 and response.headers["Location"].endswith("#unit-1")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fit 4/5 · quality 5/5 · delivery 3/5" in html and "Lovely cloth" in html
    assert "Change your rating" in html


def test_a_rating_without_scores_says_which_are_missing(db, client, shipped):
    response = rate(client, shipped, fit="4", comment="x")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please rate the quality from 1 to 5." in html
    assert "Please rate the delivery from 1 to 5." in html
    assert count(db, UnitFeedback) == 0


def test_feedback_forms_without_csrf_are_refused(db, client, shipped):
    url = f"{track_url(shipped)}/units/1"
    assert client.post(f"{url}/rating", data={
        "u1r-fit": "5", "u1r-quality": "5", "u1r-delivery": "5"}).status_code == 400
    assert client.post(f"{url}/remake", data={
        "u1m-category": "fit", "u1m-description": "long"}).status_code == 400
    assert count(db, UnitFeedback) == 0 and count(db, RemakeRequest) == 0


@pytest.mark.parametrize("path", [
    "/track/" + "y" * 43 + "/units/1/rating", "/track/short/units/1/remake",
])
def test_feedback_to_an_unknown_tracking_link_is_not_found(db, client, path):
    token = csrf_from(client.get("/products/suit").data)
    assert client.post(path, data={"csrf_token": token}).status_code == 404


def test_feedback_to_a_unit_not_in_the_order_is_not_found(db, client, shipped):
    token = form_token(client.get(track_url(shipped)).get_data(as_text=True), "u1r")
    assert client.post(f"{track_url(shipped)}/units/2/rating", data={
        "u2r-csrf_token": token}).status_code == 404


# -- remake requests -------------------------------------------------------------------------

def test_the_remake_form_shows_the_measurements_as_made_with_the_engines_ranges(
        db, client, shipped):
    html = client.get(track_url(shipped)).get_data(as_text=True)
    assert "Something wrong? Ask for a remake" in html
    assert 'id="u1m-measure_chest"' in html and 'value="102"' in html
    assert "made at 102 cm; possible: 64 to 180 cm" in html  # propagate, not the spec's 60
    assert '<label for="u1m-measure_chest">Chest' in html


def test_an_out_of_range_measurement_names_the_field_and_the_range(db, client, shipped):
    response = ask_remake(client, shipped, {"chest": 300}, category="fit",
                          description="Too tight across the chest")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = re.search(r'id="err-u1m-measure_chest"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "Chest must be between 60 and 180 cm; you entered 300." in errors
    assert "With your other measurements, Chest can be 64 to 180 cm." in errors
    assert 'value="300"' in html  # what they typed stays in the field
    assert count(db, RemakeRequest) == 0


def test_a_remake_request_stores_the_changed_measurements_only(db, client, shipped):
    response = ask_remake(client, shipped, {"chest": 104, "waist": 90}, category="fit",
                          description="Too tight across the chest")
    assert response.status_code == 302
    request = db.session.execute(select(RemakeRequest)).scalar_one()
    assert (request.status, request.category) == ("requested", "fit")
    assert request.changes == {"measurements": {"chest": {"from": 102, "to": 104}}}
    html = client.get(track_url(shipped)).get_data(as_text=True)
    assert "Waiting for our planners" in html and "Chest: 102 → <strong>104</strong> cm" in html
    assert "Something wrong? Ask for a remake" not in html  # one open request at a time


def test_a_remake_request_needs_a_category_and_a_description(db, client, shipped):
    response = ask_remake(client, shipped, {})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please say whether the fit or the quality is wrong." in html
    assert "Please tell us what is wrong, so we can put it right." in html


def test_a_measurement_that_is_not_a_number_is_explained(db, client, shipped):
    html = ask_remake(client, shipped, {"chest": "big"}, category="fit",
                      description="x").get_data(as_text=True)
    assert "Please enter a number in cm, like 102 or 102.5." in html


def test_a_cross_measurement_rule_is_reported_with_the_range(db, shipped, catalog):
    suit = catalog.products["suit"]
    rule = suit.rule("sleeve-longer-than-upper-arm")  # shoulder to elbow is 36 cm
    with pytest.raises(remakes.RemakeRejected) as caught:
        remakes.request_remake(shipped.id, "fit", "sleeves", {"sleeve": 44})
    problems = {p.field: p.message for p in caught.value.problems}
    assert rule.message in problems["measurements.sleeve"]
    assert "With your other measurements, Sleeve (shoulder to wrist) can be" in problems[
        "measurements.sleeve"]


@pytest.mark.parametrize("measurements", [
    {"nope": 3}, {"chest": None}, {"chest": "1e400"}, {"chest": [1]}, {3: 4},
])
def test_odd_adjustments_are_refused_by_name(db, shipped, measurements):
    with pytest.raises(remakes.RemakeRejected) as caught:
        remakes.request_remake(shipped.id, "fit", "x", measurements)
    assert all(p.field.startswith("measurements.") for p in caught.value.problems)
    assert count(db, RemakeRequest) == 0


def test_garbage_posts_to_the_remake_form_never_cause_a_server_error(db, client, shipped):
    html = client.get(track_url(shipped)).get_data(as_text=True)
    token = form_token(html, "u1m")
    for data in ({"u1m-category": "moon"}, {"u1m-measure_chest": "x" * 5000},
                 {"u1m-description": "\x00" * 10, "u1m-category": "fit"},
                 {"u1m-category": ["fit", "quality"], "u1m-measure_chest": "-0"}):
        response = client.post(f"{track_url(shipped)}/units/1/remake",
                               data={**data, "u1m-csrf_token": token})
        assert response.status_code == 422, data
    assert count(db, RemakeRequest) == 0


def test_a_remake_is_only_for_a_shipped_unit_within_the_window(db, catalog, shipped):
    queued = place(catalog).units[0]
    with pytest.raises(remakes.RemakeRejected, match="once the unit has shipped"):
        remakes.request_remake(queued.id, "quality", "a seam opened")
    event = db.session.execute(select(UnitEvent).where(
        UnitEvent.unit_id == shipped.id, UnitEvent.to_status == "shipped")).scalar_one()
    event.at -= timedelta(days=remakes.WINDOW_DAYS + 1)
    db.session.commit()
    with pytest.raises(remakes.RemakeRejected, match="within 90 days of shipping"):
        remakes.request_remake(shipped.id, "quality", "a seam opened")


def test_a_declined_remake_can_be_asked_for_again_but_not_an_open_one(db, shipped):
    planner_user = make_user()
    first = remakes.request_remake(shipped.id, "quality", "a seam opened")
    with pytest.raises(remakes.RemakeRejected, match="already been asked for"):
        remakes.request_remake(shipped.id, "quality", "again")
    remakes.decline_remake(first.id, planner_user, "Please send us a photo first.")
    assert remakes.request_remake(shipped.id, "quality", "photo sent").status == "requested"


# -- the planner decides ---------------------------------------------------------------------

def test_every_remake_and_feedback_page_refuses_an_anonymous_visitor(app, client, db):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("planner_feedback.")]
    assert len(rules) >= 3
    for rule in rules:
        url = rule.rule.replace("<int:request_id>", "1").replace(
            "<any(approve, decline):decision>", "approve")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code in (302, 400), (rule, method)  # 400: no CSRF token
            if response.status_code == 302:
                assert "/planner/login" in response.headers["Location"]
    token = csrf_from(client.get("/products/suit").data)
    response = client.post("/planner/remakes/1/approve", data={"r1-csrf_token": token})
    assert response.status_code == 302 and "/planner/login" in response.headers["Location"]


def test_an_approved_remake_is_a_new_unit_made_at_the_factorys_cost(
        db, client, catalog, planner, shipped):
    request = remakes.request_remake(shipped.id, "fit", "Too tight across the chest",
                                     {"chest": 104})
    page = client.get("/planner/remakes").get_data(as_text=True)
    assert "Too tight across the chest" in page
    assert '<span class="old">102</span> → <strong class="new">104</strong> cm' in page
    stock_before = db.session.execute(select(func.sum(MaterialStock.reserved))).scalar_one()
    minutes_before = db.session.execute(select(func.sum(CapacityBooking.minutes))).scalar_one()

    response = decide(client, request.id, "approve", "We will make it a little roomier.")
    assert response.status_code == 302
    db.session.expire_all()
    request = db.session.get(RemakeRequest, request.id)
    remake = request.remake_unit
    assert request.status == "approved" and request.decided_by.email == "planner@example.com"
    assert remake.order_id == shipped.order_id and remake.remake_of_id == shipped.id
    assert remake.position == 2 and remake.status == "queued" and remake.price == 0
    assert remake.design["measurements"]["chest"] == 104
    assert remake.design["options"] == shipped.design["options"]
    assert remake.order.total == shipped.price  # the customer pays nothing more
    quote = remake.quote
    assert request.cost == Decimal(quote["materials"]) + Decimal(quote["labour"]) > 0
    assert quote["charged"] == "0.00" and quote["remake_of"] == shipped.code
    assert db.session.execute(select(func.sum(MaterialStock.reserved))).scalar_one() > \
        stock_before
    assert db.session.execute(select(func.sum(CapacityBooking.minutes))).scalar_one() > \
        minutes_before
    assert remake.events[0].note == f"remake of {shipped.code}"


def test_the_remakes_work_order_says_remake_of_which_unit_and_what_changed(
        db, catalog, shipped):
    request = remakes.request_remake(shipped.id, "fit", "Too tight", {"chest": 104})
    remake = remakes.approve_remake(request.id, make_user())
    assert remake.work_order.status == "done", remake.work_order.error
    text, pages = pdf_text(storage().read(remake.work_order.path))
    flat = squash(text)
    assert "REMAKE" in text and squash(f"REMAKE of unit {shipped.code}") in flat
    assert "Chest102→104cm" in flat
    assert "»Chest" in flat  # highlighted in the measurements block too
    assert "Tootight" in flat
    original, _ = pdf_text(storage().read(shipped.work_order.path))
    assert "REMAKE" not in original


def test_the_customer_sees_the_approved_remake_as_a_new_unit(db, client, catalog, shipped):
    request = remakes.request_remake(shipped.id, "fit", "Too tight", {"chest": 104})
    remake = remakes.approve_remake(request.id, make_user(), "Roomier this time.")
    html = client.get(track_url(shipped)).get_data(as_text=True)
    assert 'id="unit-2"' in html and remake.code in html
    assert "Approved" in html and "Roomier this time." in html
    assert f'<a href="#unit-1">unit 1</a> ({shipped.code}), made again at our cost.' in html
    assert '<a href="#unit-2">unit 2 (' in html


def test_a_declined_remake_shows_the_reason_to_the_customer(db, client, planner, shipped):
    request = remakes.request_remake(shipped.id, "quality", "A button came off")
    assert decide(client, request.id, "decline", "").status_code == 302
    db.session.expire_all()
    assert db.session.get(RemakeRequest, request.id).status == "requested"  # a reason is needed
    decide(client, request.id, "decline", "We will send a replacement button by post.")
    html = client.get(track_url(shipped)).get_data(as_text=True)
    assert "Declined" in html and "We will send a replacement button by post." in html
    assert "planner@example.com" not in html  # who decided stays internal
    assert count(db, Unit) == 1


def test_a_request_is_decided_only_once(db, client, planner, shipped):
    request = remakes.request_remake(shipped.id, "quality", "A button came off")
    remakes.decline_remake(request.id, planner, "Button sent.")
    with pytest.raises(remakes.RemakeRejected, match="already declined"):
        remakes.approve_remake(request.id, planner)
    assert count(db, Unit) == 1


def test_a_remake_the_stock_cannot_cover_is_refused_and_nothing_is_written(
        db, catalog, shipped):
    from configurator.services import stock

    suit = catalog.products["suit"]
    request = remakes.request_remake(shipped.id, "fit", "Too tight", {"chest": 104})
    fabric = suit.option("fabric").choice(shipped.design["options"]["fabric"]).material
    stock.set_on_hand(suit, fabric, Decimal(0))
    db.session.commit()
    with pytest.raises(remakes.RemakeRejected, match="cannot be made now: .* out of stock"):
        remakes.approve_remake(request.id, make_user())
    assert db.session.get(RemakeRequest, request.id).status == "requested"
    assert count(db, Unit) == 1


def test_customer_text_is_escaped_on_tracking_and_planner_pages(db, client, planner, shipped):
    evil = "<script>alert(1)</script>"
    feedback.rate_unit(shipped.id, {"fit": 1, "quality": 1, "delivery": 1}, evil)
    remakes.request_remake(shipped.id, "fit", evil, {"chest": 104})
    for url in (track_url(shipped), "/planner/remakes", "/planner/feedback"):
        body = client.get(url).get_data(as_text=True)
        assert evil not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


# -- what comes back -------------------------------------------------------------------------

def test_the_feedback_page_shows_ratings_by_month_and_what_comes_back(
        db, client, catalog, planner):
    fabrics = ["navy-twill-s110", "grey-flannel"]
    units = [ship(db, place(catalog, options={"fabric": f}).units[0].id) for f in fabrics]
    feedback.rate_unit(units[0].id, {"fit": 2, "quality": 4, "delivery": 5})
    feedback.rate_unit(units[1].id, {"fit": 3, "quality": 5, "delivery": 5}, "Sleeves long")
    request = remakes.request_remake(units[0].id, "fit", "Sleeves too long", {"sleeve": 60})
    remakes.approve_remake(request.id, planner)
    html = client.get("/planner/feedback").get_data(as_text=True)
    month = db.session.execute(select(UnitFeedback.received_at)).scalars().first()
    row = re.search(rf"<td>suit</td><td>{month:%Y-%m}</td>(.*?)</tr>", html).group(1)
    assert re.findall(r'class="num">([^<]+)<', row) == ["2", "2.5", "4.5", "5.0"]
    assert '<svg role="img"' in html and "<title>" in html  # the chart, drawn on the server
    measure = re.search(r'class="units remade-measurements".*?</table>', html, re.S).group(0)
    assert "<td>Sleeve (shoulder to wrist)</td><td class=\"num\">1</td>" in measure
    assert "-2 cm" in measure
    cloth = catalog.products["suit"].option("fabric")
    fabric = cloth.choice(units[0].design["options"]["fabric"])
    choices = re.search(r'class="units remade-choices".*?</table>', html, re.S).group(0)
    assert (f"<td>{cloth.label}</td><td>{fabric.label}</td><td class=\"num\">1</td>"
            "<td class=\"num\">1</td><td class=\"num\">100.0 %</td>") in choices
    assert "50.0 %" not in choices  # remade no more often than suits in general: left out
    assert "suit: 1 of 2 shipped units remade (50.0 %)" in html
    assert "Sleeves long" in html  # the latest comments


def test_the_planner_nav_links_to_remakes(db, client, planner):
    html = client.get("/planner/").get_data(as_text=True)
    assert 'href="/planner/remakes">Remakes &amp; ratings</a>' in html
