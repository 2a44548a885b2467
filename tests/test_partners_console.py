"""The admins' console, the partner staff's page and the `configurator partners` commands."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from conftest import csrf_from
from configurator.models import ApiKey, Partner, User, Webhook, WebhookDelivery
from configurator.services import partners as service
from configurator.services import webhooks
from partners_support import FORM, app_config, partner  # noqa: F401


def log_in_as(client, db, role: str) -> None:
    user = User(email=f"{role}@factory.example", role=role)
    user.set_password("correct horse battery")
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def test_the_console_needs_a_login(client):
    response = client.get("/partners/console/")
    assert response.status_code == 302 and "/planner/login" in response.headers["Location"]


def test_the_console_is_for_admins_only(client, db):
    log_in_as(client, db, "planner")
    assert client.get("/partners/console/").status_code == 403


def test_an_admin_adds_a_partner_and_sees_its_new_key_once(client, db):
    log_in_as(client, db, "admin")
    page = client.get("/partners/console/")
    response = client.post("/partners/console/", data={
        "name": "Tailor <b>One</b>", "contact_email": "ops@one.example",
        "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    detail = client.get(response.headers["Location"])
    assert b"Tailor &lt;b&gt;One&lt;/b&gt;" in detail.data and b"<b>One" not in detail.data
    partner_id = db.session.scalar(select(Partner.id))
    issued = client.post(f"/partners/console/{partner_id}/keys",
                         data={"label": "shop", "csrf_token": csrf_from(detail.data)})
    secret = re.search(rb"pk_live_[A-Za-z0-9_-]{20,}", issued.data).group().decode()
    assert db.session.scalar(select(ApiKey.key_hash)) == service.hash_key(secret)
    assert secret.encode() not in client.get(f"/partners/console/{partner_id}").data


def test_an_admin_revokes_a_key(client, db, partner):
    log_in_as(client, db, "admin")
    page = client.get(f"/partners/console/{partner.id}")
    client.post(f"/partners/console/keys/{partner.key_id}/revoke",
                data={"csrf_token": csrf_from(page.data)})
    assert client.post("/partners/v1/orders", data=FORM,
                       headers=partner.headers).status_code == 403


def test_console_posts_need_the_csrf_token(client, db, partner):
    log_in_as(client, db, "admin")
    assert client.post(f"/partners/console/keys/{partner.key_id}/revoke").status_code == 400


def test_the_delivery_log_is_shown(client, db, partner):
    hook = webhooks.register(db.session.get(Partner, partner.id), "https://partner.example/h")
    db.session.add(WebhookDelivery(
        webhook=hook, event_id="evt_123", event_type="unit.status_changed", payload="{}",
        status="failed", attempts=8, last_status_code=500, last_error="HTTP 500: <oops>", log=[]))
    db.session.commit()
    log_in_as(client, db, "admin")
    page = client.get(f"/partners/console/{partner.id}")
    assert b"evt_123" in page.data and b"HTTP 500: &lt;oops&gt;" in page.data
    assert hook.secret.encode() in page.data and b"Retry now" in page.data


@pytest.fixture
def staff(app, partner):
    """A staff login. Its own app context: the staff tests must not share `g` (and its cached
    CSRF token) across requests, which the `db` fixture's long-lived context would do."""
    with app.app_context():
        service.add_staff(db_session().get(Partner, partner.id), "desk@acme.example",
                          "long enough pw")
    return "desk@acme.example"


def db_session():
    from configurator.extensions import db

    return db.session


def staff_login(client, email):
    page = client.get("/partners/login")
    return client.post("/partners/login", data={
        "email": email, "password": "long enough pw", "csrf_token": csrf_from(page.data)})


def test_staff_place_an_order_by_hand(client, staff):
    assert staff_login(client, staff).status_code == 302
    page = client.get("/partners/orders/new?product=tee")
    assert b'name="measure.chest"' in page.data
    response = client.post("/partners/orders/new",
                           data={**FORM, "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302, response.data
    order = client.get(response.headers["Location"])
    assert b"PO-1001" in order.data and b"U-" in order.data


def test_the_staff_page_needs_csrf(client, staff):
    staff_login(client, staff)
    assert client.post("/partners/orders/new", data=FORM).status_code == 400


def test_the_staff_page_shows_problems_escaped(client, staff):
    staff_login(client, staff)
    page = client.get("/partners/orders/new?product=tee")
    response = client.post("/partners/orders/new", data={
        **FORM, "option.colour": "<script>x</script>", "csrf_token": csrf_from(page.data)})
    assert response.status_code == 422
    assert b"<script>x" not in response.data and b"&lt;script&gt;" in response.data


def test_the_staff_page_needs_a_staff_login(client):
    assert client.get("/partners/orders/new").headers["Location"].endswith("/partners/login")


def test_staff_see_only_their_partners_orders(app, client, staff):
    from partners_support import make_partner

    other = make_partner(app, "Other Shop")
    order_id = client.post("/partners/v1/orders", data=FORM,
                           headers=other.headers).get_json()["id"]
    staff_login(client, staff)
    assert client.get(f"/partners/orders/{order_id}").status_code == 404


def test_the_commands_create_a_partner_and_manage_its_keys(app, db):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["partners", "create", "Cli Shop", "ops@cli.example"])
    assert created.exit_code == 0, created.output
    secret = re.search(r"pk_live_\S+", created.output).group()
    listed = runner.invoke(args=["partners", "list"])
    assert "Cli Shop" in listed.output and secret not in listed.output
    key_id = db.session.scalar(select(ApiKey.id))
    rotated = runner.invoke(args=["partners", "rotate-key", str(key_id)])
    assert rotated.exit_code == 0 and "pk_live_" in rotated.output
    hook = runner.invoke(args=["partners", "add-webhook", "Cli Shop", "https://cli.example/h"])
    assert "whsec_" in hook.output and db.session.scalar(select(Webhook.url))
    assert runner.invoke(args=["partners", "issue-key", "Nobody"]).exit_code != 0
