"""After delivery in a real browser (headless Chromium): a customer rates a shipped suit and
asks for a remake, a planner approves it, the new unit is tracked and its work order says
REMAKE; a declined request shows its reason; the statistics page shows what came back."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader

from configurator.models import Unit
from configurator.services import remakes
from configurator.services.units import advance_unit, next_step
from conftest import needs_chromium, new_tab
from workorders_support import PASSWORD, make_user, place, squash

pytestmark = needs_chromium


def shipped_suit(db, catalog, name="Ana Sousa") -> Unit:
    from configurator.services.orders import CustomerDetails

    customer = CustomerDetails(name, "ana@example.com", "Rua 1\nPorto")
    unit = place(catalog, customer=customer).units[0]
    while (step := next_step(db.session.get(Unit, unit.id))) is not None:
        advance_unit(unit.id, step[0], actor="floor@example.com")
    return db.session.get(Unit, unit.id)


def log_in(page, live_server):
    page.goto(f"{live_server}/planner/remakes")
    page.wait_for_url(re.compile(r"/planner/login"))
    page.fill('[name="email"]', "planner@example.com")
    page.fill('[name="password"]', PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/planner/remakes$"))


def test_rate_ask_for_a_remake_approve_it_and_track_the_new_unit(
        browser, live_server, db, catalog):
    unit = shipped_suit(db, catalog)
    make_user()
    track = f"{live_server}/track/{unit.order.tracking_token}"
    customer = new_tab(browser, width=375)  # the customer is on a phone

    # receipt and rating
    customer.goto(track)
    assert customer.evaluate("document.documentElement.scrollWidth") <= 375
    for name, score in (("fit", "2"), ("quality", "5"), ("delivery", "4")):
        customer.get_by_role("group", name=re.compile(name.title())).get_by_label(score).check()
    customer.get_by_label("Anything to tell us?").fill("Lovely cloth, tight across the chest.")
    customer.click("text=Confirm receipt and rate")
    customer.wait_for_url(re.compile(r"#unit-1$"))
    assert "Fit 2/5 · quality 5/5 · delivery 4/5" in customer.inner_text("#unit-1")

    # a remake with an out-of-range chest first: the error names the field and the range
    customer.click("text=Something wrong? Ask for a remake")
    customer.get_by_label("It does not fit").check()
    customer.get_by_label("Tell us what is wrong").fill("Too tight across the chest.")
    chest = customer.get_by_label("Chest", exact=False).first
    assert chest.input_value() == "102"
    assert "possible: 64 to 180 cm" in customer.inner_text("#range-u1m-measure_chest")
    chest.fill("300")
    customer.get_by_role("button", name="Ask for a remake").click()
    error = customer.locator("#err-u1m-measure_chest")
    error.wait_for()
    assert "Chest must be between 60 and 180 cm" in error.inner_text()
    assert "Chest can be 64 to 180 cm" in error.inner_text()
    assert customer.get_attribute("#u1m-measure_chest", "aria-invalid") == "true"
    customer.fill("#u1m-measure_chest", "104")
    customer.get_by_role("button", name="Ask for a remake").click()
    customer.wait_for_url(re.compile(r"#unit-1$"))
    assert "Waiting for our planners" in customer.inner_text("#unit-1")
    assert "Chest: 102 → 104 cm" in customer.inner_text("#unit-1")

    # the planner approves
    planner = new_tab(browser)
    log_in(planner, live_server)
    card = planner.locator("article.remake-card")
    text = card.inner_text()
    assert "Too tight across the chest." in text and "102 → 104 cm" in text
    card.get_by_label("Note to the customer").fill("A little roomier this time.")
    card.get_by_role("button", name=re.compile("Approve")).click()
    planner.wait_for_selector(".flash.success")
    code = re.search(r"unit (U-\S+) is queued", planner.inner_text(".flash.success")).group(1)

    # the customer sees the new unit; its work order says REMAKE with the change
    customer.goto(track)
    assert customer.locator("li.unit").count() == 2
    remade = customer.inner_text("#unit-2")
    assert code in remade and f"Remake of unit 1 ({unit.code})" in remade
    assert "A little roomier this time." in customer.inner_text("#unit-1")
    pdf = planner.request.get(f"{live_server}/planner/units/{code}/workorder.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "REMAKE" in text and unit.code in text and "Chest102→104cm" in squash(text)

    # the statistics show the rating and the remade measurement
    planner.goto(f"{live_server}/planner/feedback")
    ratings = planner.inner_text("table.ratings")
    assert re.search(r"suit\s+\d{4}-\d\d\s+1\s+2\.0\s+5\.0\s+4\.0", ratings), ratings
    assert re.search(r"Chest\s+1\s+\+2 cm", planner.inner_text("table.remade-measurements"))
    assert planner.locator("svg[role=img] rect").count() == 3


def test_a_declined_remake_shows_the_planners_reason(browser, live_server, db, catalog):
    unit = shipped_suit(db, catalog, name="Rui Lopes")
    make_user()
    remakes.request_remake(unit.id, "quality", "A button came off after a week.")
    planner = new_tab(browser)
    log_in(planner, live_server)
    card = planner.locator("article.remake-card")
    card.get_by_label("Why decline?").fill("We are posting you spare buttons today.")
    card.get_by_role("button", name="Decline").click()
    planner.wait_for_selector(".flash.success")
    assert planner.locator("article.remake-card").count() == 0

    customer = new_tab(browser)
    customer.goto(f"{live_server}/track/{unit.order.tracking_token}")
    request = customer.locator(".remake-request.declined")
    assert "Declined" in request.inner_text()
    assert "Our answer: We are posting you spare buttons today." in request.inner_text()
    assert customer.locator("li.unit").count() == 1
