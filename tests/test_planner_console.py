"""The planner's console: login, lists, unit pages, advancing units, printing, materials, CSV."""
from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from configurator.models import Unit, UnitEvent, User
from configurator.services.units import InvalidTransition, advance_unit
from conftest import csrf_from
from workorders_support import PASSWORD, log_in, make_user, place


@pytest.fixture
def planner(db, client):
    user = make_user()
    assert log_in(client).status_code == 302
    return user


def test_every_planner_page_refuses_an_anonymous_visitor(app, client):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("planner.") or rule.endpoint == "planner.login":
            continue
        url = rule.rule.replace("<code>", "U-1").replace("<job_id>", "a" * 32)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code in (302, 400), (rule, method)
            if response.status_code == 302:
                assert "/planner/login" in response.headers["Location"]


def test_wrong_password_is_refused(db, client):
    make_user()
    page = client.get("/planner/login")
    response = client.post("/planner/login", data={
        "email": "planner@example.com", "password": "nope", "csrf_token": csrf_from(page.data)})
    assert response.status_code == 401 and b"Wrong email or password" in response.data


def test_login_never_redirects_off_site(db, client):
    make_user()
    page = client.get("/planner/login?next=https://evil.example/")
    response = client.post("/planner/login", data={
        "email": "planner@example.com", "password": PASSWORD, "next": "https://evil.example/",
        "csrf_token": csrf_from(page.data)})
    assert response.headers["Location"] == "/planner/"


def test_units_list_filters_by_product_and_shows_the_work_order(db, client, catalog, planner):
    order = place(catalog, n=2)
    page = client.get("/planner/?product=suit&status=queued")
    assert page.status_code == 200
    for unit in order.units:
        assert unit.code.encode() in page.data
    assert b"No units match" in client.get("/planner/?status=shipped").data


def test_a_long_units_list_is_paged_and_keeps_its_filters(db, client, catalog, planner,
                                                          monkeypatch):
    from configurator.services import planning

    monkeypatch.setattr(planning, "PAGE_SIZE", 2)
    codes = [u.code for u in place(catalog, n=5).units]  # one order: codes in promised order
    first = client.get("/planner/?product=suit&sort=code").get_data(as_text=True)
    assert "Units 1–2 of 5" in first and codes[0] in first and codes[2] not in first
    nxt = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "product=suit" in nxt and "page=2" in nxt
    last = client.get("/planner/?product=suit&sort=code&page=99").get_data(as_text=True)
    assert "Units 5–5 of 5" in last and codes[4] in last and 'rel="next"' not in last


def test_the_station_filter_pages_too(db, catalog):
    from configurator.services import planning

    place(catalog, n=3)
    station = "cutting"
    page = planning.page_of_units(planning.UnitFilter(station=station, sort="code"), 2, size=2)
    assert (page.total, page.pages, len(page.items)) == (3, 2, 1)


def test_customer_text_is_escaped_on_planner_pages(db, client, catalog, planner):
    from configurator.services.orders import CustomerDetails

    order = place(catalog, customer=CustomerDetails(
        "<script>alert(1)</script>", "a@example.com", "x"))
    for url in ("/planner/", "/planner/orders", f"/planner/units/{order.units[0].code}"):
        body = client.get(url).data
        assert b"<script>alert(1)</script>" not in body and b"&lt;script&gt;" in body


def test_unit_page_downloads_its_work_order(db, client, catalog, planner):
    unit = place(catalog).units[0]
    assert unit.code.encode() in client.get(f"/planner/units/{unit.code}").data
    pdf = client.get(f"/planner/units/{unit.code}/workorder.pdf")
    assert pdf.mimetype == "application/pdf"
    assert unit.code in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


def test_advancing_a_unit_records_who_and_when(db, client, catalog, planner):
    unit = place(catalog).units[0]
    page = client.get(f"/planner/units/{unit.code}")
    first_station = unit.routing[0]["station"]
    response = client.post(f"/planner/units/{unit.code}/advance", data={
        "to_status": first_station, "expected_status": "queued", "note": "",
        "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert unit.status == first_station
    event = unit.events[-1]
    assert (event.from_status, event.to_status, event.actor) == ("queued", first_station,
                                                                 "planner@example.com")


def test_a_unit_moves_only_along_its_steps(db, catalog):
    user = make_user()
    unit = place(catalog).units[0]
    with pytest.raises(InvalidTransition, match="can only move on"):
        advance_unit(unit.id, "shipped", actor=user)
    with pytest.raises(InvalidTransition, match="not a step"):
        advance_unit(unit.id, "moon", actor=user)


def test_a_stale_page_cannot_move_a_unit_twice(db, catalog):
    user = make_user()
    unit = place(catalog).units[0]
    station = unit.routing[0]["station"]
    advance_unit(unit.id, station, actor=user, expected_status="queued")
    with pytest.raises(InvalidTransition, match="already at"):
        advance_unit(unit.id, station, actor=user, expected_status="queued")


def test_only_an_admin_moves_a_unit_back_and_says_why(db, catalog):
    planner_user, admin = make_user(), make_user("admin@example.com", role="admin")
    unit = place(catalog).units[0]
    station = unit.routing[0]["station"]
    advance_unit(unit.id, station, actor=planner_user)
    with pytest.raises(InvalidTransition):
        advance_unit(unit.id, "queued", actor=planner_user, note="oops")
    with pytest.raises(InvalidTransition, match="note"):
        advance_unit(unit.id, "queued", actor=admin)
    advance_unit(unit.id, "queued", actor=admin, note="cut on the wrong cloth")
    events = db.session.execute(
        select(UnitEvent).where(UnitEvent.unit_id == unit.id)).scalars().all()
    assert [e.to_status for e in events] == ["queued", station, "queued"]


def _print(client, data):
    page = client.get("/planner/")
    response = client.post("/planner/print", data={**data, "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302, response.data
    job_url = response.headers["Location"]
    assert client.get(job_url).status_code == 200
    for _ in range(600):  # the job runs in a background thread; wait for it, not for a time
        state = client.get(job_url + ".json").get_json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert state["status"] == "done", state
    return client.get(job_url + "/download")


def test_merged_pdf_has_one_work_order_per_unit_in_promised_date_order(db, client, catalog,
                                                                       planner):
    orders = [place(catalog, options={"pieces": "two"}) for _ in range(3)]
    units = [o.units[0] for o in orders]
    units[0].promised_date += timedelta(days=5)  # first ordered, promised last
    db.session.commit()
    download = _print(client, {"unit": [str(u.id) for u in units], "format": "pdf"})
    reader = PdfReader(io.BytesIO(download.data))
    firsts = [page.extract_text() for page in reader.pages]
    codes = [next(u.code for u in units if u.code in text) for text in firsts]
    expected = [u.code for u in sorted(units, key=lambda u: (u.promised_date, u.code))]
    assert codes == expected and len(reader.pages) == 3


def test_everything_due_in_n_days_as_a_zip(db, client, catalog, planner):
    order = place(catalog, n=2)
    days = (order.units[0].promised_date - __import__("datetime").date.today()).days + 1
    download = _print(client, {"days": str(max(days, 0)), "format": "zip"})
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert sorted(u.code for u in order.units) == sorted(n.split("_")[-1][:-4] for n in names)


def test_print_jobs_of_yesterday_are_deleted_when_a_new_one_starts(app, db, client, catalog,
                                                                   planner):
    import os

    unit = place(catalog).units[0]
    _print(client, {"unit": str(unit.id), "format": "pdf"})
    folder = Path(app.config["STORAGE_DIR"]) / "print-jobs"
    old = sorted(folder.iterdir())
    assert len(old) == 2  # the job's state and its merged PDF
    day_ago = time.time() - 25 * 3600
    for path in old:
        os.utime(path, (day_ago, day_ago))
    _print(client, {"unit": str(unit.id), "format": "zip"})
    left = sorted(folder.iterdir())
    assert len(left) == 2 and not set(old) & set(left)
    assert (Path(app.config["STORAGE_DIR"]) / unit.work_order.path).is_file()  # kept


def test_another_planner_cannot_see_my_print_job(app, db, client, catalog, planner):
    unit = place(catalog).units[0]
    page = client.get("/planner/")
    job_url = client.post("/planner/print", data={
        "unit": str(unit.id), "format": "pdf", "csrf_token": csrf_from(page.data)},
    ).headers["Location"]
    from flask import g

    other = app.test_client()
    make_user("other@example.com")
    # The `db` fixture keeps one app context for the whole test, so what Flask-Login and
    # Flask-WTF keep per request in `g` (the user, the CSRF token) would carry over from the
    # first client: drop it between the two browsers.
    for name in ("_login_user", "csrf_token"):
        g.pop(name, None)
    log_in(other, "other@example.com")
    g.pop("_login_user", None)
    assert other.get(job_url + ".json").status_code == 404


def test_material_requirements_and_csv_exports(db, client, catalog, planner):
    order = place(catalog)
    unit = order.units[0]
    page = client.get(f"/planner/materials?start={unit.promised_date}&end={unit.promised_date}")
    assert page.status_code == 200 and unit.bill[0]["name"].encode() in page.data
    units_csv = client.get("/planner/export/units.csv")
    assert units_csv.mimetype == "text/csv" and unit.code in units_csv.get_data(as_text=True)
    assert order.reference in client.get("/planner/export/orders.csv").get_data(as_text=True)


def test_csv_cells_never_become_formulas(db, client, catalog, planner):
    from configurator.services.orders import CustomerDetails

    place(catalog, customer=CustomerDetails("=HYPERLINK(\"http://x\")", "a@example.com", "x"))
    text = client.get("/planner/export/orders.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text


def test_users_command_creates_a_planner_with_a_hashed_password(app, db):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "New@Example.com", "--role", "admin", "--password", "long enough pw"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "new@example.com")).scalar_one()
    assert user.role == "admin" and "long enough pw" not in user.password_hash
    assert user.check_password("long enough pw")


def test_the_shoppers_tracking_page_follows_the_unit(db, client, catalog):
    user = make_user()
    order = place(catalog)
    unit = order.units[0]
    step = unit.routing[0]
    advance_unit(unit.id, step["station"], actor=user, note="Rui is off sick, later today")
    page = client.get(f"/track/{order.tracking_token}").get_data(as_text=True)
    assert step["station_name"] in page and 'aria-current="step"' in page
    assert "Rui is off sick" not in page  # planners' notes are internal


def test_each_step_appears_once_in_the_order_of_the_routing(db, client, catalog):
    unit = place(catalog).units[0]
    stations = list(dict.fromkeys(step["station_name"] for step in unit.routing))
    page = client.get(f"/track/{unit.order.tracking_token}").get_data(as_text=True)
    labels = re.findall(r'<span class="step-label">([^<]+)</span>', page)
    assert labels == ["Queued", *stations, "Shipped"]
    assert labels.count("Quality control") == 1


def test_a_work_order_downloads_on_us_letter_too(db, client, catalog, planner):
    unit = place(catalog).units[0]
    pdf = client.get(f"/planner/units/{unit.code}/workorder.pdf?paper=letter")
    box = PdfReader(io.BytesIO(pdf.data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert client.get(f"/planner/units/{unit.code}/workorder.pdf?paper=a3").status_code == 400
