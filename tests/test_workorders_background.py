"""Without a broker (the embedded default), the work orders an order's request asks for are
rendered on the process's render thread after the answer, not while the customer waits."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from configurator import ConfigurationError, create_app
from configurator.extensions import db as _db
from configurator.models import Unit, WorkOrder
from configurator.workorders.storage import storage
from conftest import needs_chromium, new_tab
from partners_support import FORM, app_config, partner  # noqa: F401 (fixtures)
from workorders_support import PASSWORD, log_in, make_user, pdf_text, place


def _work_order(app, code: str) -> WorkOrder:
    with app.app_context():
        found = _db.session.execute(select(WorkOrder).join(Unit).where(Unit.code == code))
        work_order = found.scalar_one()
        _db.session.expunge(work_order)
        _db.session.remove()
        return work_order


def _wait_for(app, code: str, status: str, seconds: float = 60) -> WorkOrder:
    deadline = time.monotonic() + seconds
    while True:
        work_order = _work_order(app, code)
        if work_order.status == status or time.monotonic() > deadline:
            return work_order
        time.sleep(0.05)


def _post(client, partner, reference: str) -> str:  # noqa: F811 (the fixture's value)
    answer = client.post("/partners/v1/orders", data={**FORM, "partner_reference": reference},
                         headers=partner.headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()["units"][0]["code"]


def test_a_post_is_answered_before_its_work_order_is_rendered_then_it_is(
        app, client, partner, tmp_path):  # noqa: F811
    hold = tmp_path / "hold"
    hold.touch()  # a claimed render waits while this file exists
    app.config.update(RENDER_IN_PROCESS="background", RENDER_TEST_HOLD=str(hold))

    code = _post(client, partner, "PO-1")

    assert _work_order(app, code).status in ("pending", "rendering")  # the answer did not wait
    hold.unlink()
    work_order = _wait_for(app, code, "done")
    assert work_order.status == "done", work_order.error
    assert work_order.renders == 1
    with app.app_context():
        text, pages = pdf_text(storage().read(work_order.path))
    assert code in text and pages >= 1


def test_a_failed_background_render_is_recorded_and_the_next_order_still_renders(
        app, client, partner, tmp_path):  # noqa: F811
    app.config["RENDER_IN_PROCESS"] = "background"
    good_storage = app.config["STORAGE_DIR"]
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage folder should be")
    app.config["STORAGE_DIR"] = str(blocker / "workorders")

    broken = _post(client, partner, "PO-1")
    failed = _wait_for(app, broken, "failed")
    assert failed.status == "failed"
    assert "not-a-folder" in failed.error  # what went wrong, for the planners' list

    app.config["STORAGE_DIR"] = good_storage
    fine = _post(client, partner, "PO-2")
    assert _wait_for(app, fine, "done").status == "done"


def test_outside_a_request_the_work_orders_render_at_once(app, db, catalog):
    # A CLI command (render-pending, demo-data) ends when it returns: nothing is left behind.
    app.config["RENDER_IN_PROCESS"] = "background"
    order = place(catalog, product="tee")
    work_order = db.session.execute(
        select(WorkOrder).where(WorkOrder.unit_id == order.units[0].id)).scalar_one()
    db.session.refresh(work_order)
    assert work_order.status == "done"


def test_an_unknown_render_mode_is_refused_with_the_setting_named(app_config):  # noqa: F811
    with pytest.raises(ConfigurationError, match="CONFIGURATOR_RENDER_IN_PROCESS is 'later'"):
        create_app({**app_config, "RENDER_IN_PROCESS": "later"})


def test_the_state_of_a_work_order_is_readable_by_planners_only(app, db, client, catalog):
    code = place(catalog, product="tee").units[0].code
    url = f"/planner/units/{code}/workorder.json"
    assert "/planner/login" in client.get(url).headers["Location"]
    make_user()
    assert log_in(client).status_code == 302
    assert client.get(url).get_json() == {"status": "done", "attempts": 1, "error": ""}
    assert client.get("/planner/units/U-0000-999999/workorder.json").status_code == 404


@pytest.mark.parametrize("_", [None], ids=["chromium"])
@needs_chromium[0]
@needs_chromium[1]
def test_the_unit_page_updates_itself_when_its_work_order_is_rendered(
        _, app, db, catalog, browser, live_server, tmp_path):
    code = place(catalog, product="tee").units[0].code
    make_user()
    hold = tmp_path / "hold"
    hold.touch()
    app.config.update(RENDER_IN_PROCESS="background", RENDER_TEST_HOLD=str(hold))
    page = new_tab(browser)
    page.goto(f"{live_server}/planner/units/{code}")
    page.fill('[name="email"]', "planner@example.com")
    page.fill('[name="password"]', PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(f"/planner/units/{code}$"))

    page.click("text=Render again")  # answered at once: the render waits on its thread
    page.wait_for_selector("#wo-wait")
    assert page.inner_text(".wo") in ("pending", "rendering")
    assert page.locator("text=Download work order").count() == 0
    assert not page.is_visible("#wo-render")  # no second render while this one runs

    hold.unlink()  # the page reloads itself once the state changes, without a click
    page.wait_for_selector("text=Download work order")
    assert page.inner_text(".wo") == "done"
    assert page.locator("#wo-wait").count() == 0
