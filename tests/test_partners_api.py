"""The partner API through the test client: answers, errors, ownership, idempotency, limits."""
from __future__ import annotations

import contextlib

import pytest

from sqlalchemy import func, select

from configurator.models import ApiKey, IdempotencyRecord, Order
from configurator.services import partners as service
from partners_support import FORM, app_config, make_partner, other_partner, partner  # noqa: F401

URL = "/partners/v1/orders"


def count_orders(db) -> int:
    return db.session.scalar(select(func.count(Order.id)))


def test_post_places_the_order_and_answers_201_with_location(client, db, partner):
    response = client.post(URL, data=FORM, headers=partner.headers)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/partners/v1/orders/{body['id']}")
    assert body["partner_reference"] == "PO-1001"
    assert body["total"] == "45.00" and body["promised_date"]
    assert [u["product"] for u in body["units"]] == ["tee"]
    order = db.session.get(Order, body["id"])
    assert (order.partner_id, order.source) == (partner.id, "partner")
    assert order.units[0].design["measurements"] == {"chest": 100.5}


def test_multipart_post_is_read_like_a_urlencoded_one(client, partner):
    response = client.post(URL, data=FORM, headers=partner.headers,
                           content_type="multipart/form-data")
    assert response.status_code == 201


def test_several_units_are_read_from_unit_fields(client, partner):
    form = {k: v for k, v in FORM.items() if not k.startswith(("option.", "measure.", "text."))}
    form.update({"units": "2", "unit-1.option.colour": "white", "unit-1.option.fit": "regular",
                 "unit-1.measure.chest": "130", "unit-1.label": "for Rui",
                 "unit-2.option.colour": "black", "unit-2.option.fit": "slim",
                 "unit-2.measure.chest": "90"})
    response = client.post(URL, data=form, headers=partner.headers)
    assert response.status_code == 201, response.get_json()
    units = response.get_json()["units"]
    assert [(u["position"], u["label"], u["price"]) for u in units] == [
        (1, "for Rui", "40.00"), (2, "", "45.00")]


def test_a_bad_post_lists_every_problem_by_partner_field_and_stores_nothing(client, db, partner):
    form = {**FORM, "units": "2", "unit-1.option.colour": "white", "unit-1.option.fit": "slim",
            "unit-1.measure.chest": "100", "unit-2.option.colour": "purple",
            "unit-2.option.fit": "slim", "unit-2.measure.chest": "130", "customer_name": ""}
    for name in ("option.colour", "option.fit", "measure.chest", "text.monogram"):
        del form[name]
    response = client.post(URL, data=form, headers=partner.headers)
    assert response.status_code == 422
    problems = {(p["field"], p["rule"]) for p in response.get_json()["problems"]}
    assert {("customer_name", "required"), ("unit-2.option.colour", "choice"),
            ("unit-2.measure.chest", "slim-chest")} <= problems, problems
    assert all(p["message"] for p in response.get_json()["problems"])
    assert count_orders(db) == 0


def test_unreadable_fields_are_named(client, partner):
    form = {**FORM, "measure.chest": "wide", "colour": "red"}
    response = client.post(URL, data=form, headers=partner.headers)
    problems = {(p["field"], p["rule"]) for p in response.get_json()["problems"]}
    assert problems == {("measure.chest", "type"), ("colour", "unknown-field")}


def test_digits_int_cannot_read_are_a_422_or_400_not_a_500(client, partner):
    """'¹' is a digit to str.isdigit() but not a number to int() (found by the fuzz test)."""
    response = client.post(URL, data={**FORM, "units": "\u00b9"}, headers=partner.headers)
    assert response.status_code == 422
    assert ("units", "range") in {(p["field"], p["rule"]) for p in response.get_json()["problems"]}
    listed = client.get(f"{URL}?page=\u00b2", headers=partner.headers)
    assert listed.status_code == 400 and "page must be" in listed.get_json()["message"]


def test_missing_key_is_401_json(client):
    response = client.post(URL, data=FORM)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.get_json()["message"]


def test_wrong_key_is_401(client, partner):
    response = client.post(URL, data=FORM, headers={"Authorization": "Bearer pk_live_nope"})
    assert response.status_code == 401


def test_revoked_key_is_403_and_its_rotation_works(client, db, partner):
    key = db.session.get(ApiKey, partner.key_id)
    new = service.rotate_key(key)
    assert client.post(URL, data=FORM, headers=partner.headers).status_code == 403
    assert client.post(URL, data=FORM, headers={
        "Authorization": f"Bearer {new.secret}"}).status_code == 201


def test_only_the_hash_of_a_key_is_stored(db, partner):
    key = db.session.get(ApiKey, partner.key_id)
    assert partner.secret.startswith("pk_live_")
    assert partner.secret not in (key.key_hash, key.prefix)
    assert key.key_hash == service.hash_key(partner.secret)


def test_a_partner_cannot_read_another_partners_order(client, partner, other_partner):
    order_id = client.post(URL, data=FORM, headers=partner.headers).get_json()["id"]
    assert client.get(f"{URL}/{order_id}", headers=partner.headers).status_code == 200
    response = client.get(f"{URL}/{order_id}", headers=other_partner.headers)
    assert response.status_code == 404 and response.get_json()["status"] == 404
    assert client.get(URL, headers=other_partner.headers).get_json()["total"] == 0


def test_the_list_is_paginated_newest_first(client, partner):
    ids = [client.post(URL, data={**FORM, "partner_reference": f"PO-{n}"},
                       headers=partner.headers).get_json()["id"] for n in range(3)]
    first = client.get(f"{URL}?per_page=2", headers=partner.headers).get_json()
    assert [o["id"] for o in first["orders"]] == ids[::-1][:2] and first["total"] == 3
    second = client.get(first["next"], headers=partner.headers).get_json()
    assert [o["id"] for o in second["orders"]] == ids[:1] and second["next"] is None
    found = client.get(f"{URL}?partner_reference=PO-1", headers=partner.headers).get_json()
    assert [o["id"] for o in found["orders"]] == [ids[1]]


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(client, db, partner):
    headers = {**partner.headers, "Idempotency-Key": "retry-1"}
    first = client.post(URL, data=FORM, headers=headers)
    again = client.post(URL, data=dict(reversed(list(FORM.items()))), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.data == first.data and again.headers["Location"] == first.headers["Location"]
    assert count_orders(db) == 1


def test_the_same_idempotency_key_with_another_body_is_422(client, db, partner):
    headers = {**partner.headers, "Idempotency-Key": "retry-2"}
    client.post(URL, data=FORM, headers=headers)
    response = client.post(URL, data={**FORM, "measure.chest": "101"}, headers=headers)
    assert response.status_code == 422 and "different body" in response.get_json()["message"]
    assert count_orders(db) == 1


def test_a_rejected_post_is_replayed_too_and_stores_nothing(client, db, partner):
    headers = {**partner.headers, "Idempotency-Key": "bad-1"}
    first = client.post(URL, data={**FORM, "measure.chest": "500"}, headers=headers)
    again = client.post(URL, data={**FORM, "measure.chest": "500"}, headers=headers)
    assert first.status_code == again.status_code == 422 and first.data == again.data
    assert count_orders(db) == 0


def test_a_retry_while_the_first_is_processing_is_409(client, db, partner):
    from configurator.services.idempotency import fingerprint

    body = {k: [v] for k, v in FORM.items()}
    db.session.add(IdempotencyRecord(partner_id=partner.id, key="busy", state="processing",
                                     fingerprint=fingerprint(body)))
    db.session.commit()
    response = client.post(URL, data=FORM, headers={**partner.headers, "Idempotency-Key": "busy"})
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert count_orders(db) == 0


def test_a_key_left_processing_by_a_request_that_died_is_taken_over_by_a_retry(client, db,
                                                                               partner):
    from datetime import timedelta

    from configurator.models._types import utcnow
    from configurator.services.idempotency import LEASE, fingerprint

    body = {k: [v] for k, v in FORM.items()}
    db.session.add(IdempotencyRecord(  # the database went away under the first request
        partner_id=partner.id, key="orphan", state="processing", fingerprint=fingerprint(body),
        locked_at=utcnow() - LEASE - timedelta(seconds=1)))
    db.session.commit()
    headers = {**partner.headers, "Idempotency-Key": "orphan"}
    assert client.post(URL, data=FORM, headers=headers).status_code == 201
    assert client.post(URL, data=FORM, headers=headers).status_code == 201
    assert count_orders(db) == 1


def test_idempotency_keys_belong_to_one_partner(client, db, partner, other_partner):
    client.post(URL, data=FORM, headers={**partner.headers, "Idempotency-Key": "k"})
    response = client.post(URL, data=FORM, headers={**other_partner.headers,
                                                    "Idempotency-Key": "k"})
    assert response.status_code == 201 and count_orders(db) == 2


def test_an_oversized_body_is_413_json(app, client, partner):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post(URL, data={**FORM, "text.monogram": "A" * 4096},
                           headers=partner.headers)
    assert response.status_code == 413
    assert "larger than 2048 bytes" in response.get_json()["message"]


def test_too_many_requests_is_429_with_retry_after(app, client, partner, other_partner):
    app.config["PARTNER_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert client.get(URL, headers=partner.headers).status_code == 200
    response = client.get(URL, headers=partner.headers)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Retry after" in response.get_json()["message"]
    assert client.get(URL, headers=other_partner.headers).status_code == 200  # per partner


def test_a_json_body_is_refused_with_415(client, partner):
    response = client.post(URL, json=FORM, headers=partner.headers)
    assert response.status_code == 415 and "form" in response.get_json()["message"]


def test_a_disabled_partner_is_refused(app, client, db, partner):
    from configurator.models import Partner

    service.set_partner_active(db.session.get(Partner, partner.id), False)
    assert client.post(URL, data=FORM, headers=partner.headers).status_code == 403


def test_the_openapi_document_describes_the_api(client):
    doc = client.get("/partners/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/orders", "/orders/{order_id}"}
    assert {"201", "401", "403", "409", "413", "422", "429"} <= set(
        doc["paths"]["/orders"]["post"]["responses"])
    assert doc["servers"][0]["url"].endswith("/partners/v1")


def test_a_second_partner_can_be_made(app):
    assert make_partner(app, "Third Shop").secret.startswith("pk_live_")


@pytest.mark.parametrize("key_max_age, key_reads", [(0, 1), (60, 0)])
def test_a_keyed_order_runs_eleven_statements_in_one_transaction_and_the_key_lookup(
        app, client, db, partner, monkeypatch, key_max_age, key_reads):
    """The key and its partner are read once, or not at all while this process remembers the
    key from the earlier posts (PARTNER_KEY_MAX_AGE)."""
    from configurator.workorders import queue

    app.config["PARTNER_KEY_MAX_AGE"] = key_max_age
    monkeypatch.setattr(queue, "enqueue_renders", lambda unit_ids: None)  # renders aside
    for n in range(2):  # the first orders store the spec version and its booking rows
        client.post(URL, data={**FORM, "partner_reference": f"PO-{n}"},
                    headers={**partner.headers, "Idempotency-Key": f"warm-{n}"})
    with _statements_run(db) as (statements, commits):
        response = client.post(URL, data={**FORM, "partner_reference": "PO-2"},
                               headers={**partner.headers, "Idempotency-Key": "counted"})
    assert response.status_code == 201
    # the key with its partner (unless remembered); 10 for the order; the key's record with
    # its answer, last
    assert len(statements) == key_reads + 11, "\n".join(statements)
    assert statements[-1].replace('"', "").startswith("INSERT INTO idempotency_record")
    assert len(commits) == 1
    assert sum(" partner " in f"{s} " for s in statements) == key_reads


@contextlib.contextmanager
def _statements_run(db):
    """The statements sent to the database, and the commits. On PostgreSQL the order's own
    statements run on psycopg's cursor (services/direct.py), so they are counted there."""
    import psycopg
    from sqlalchemy import event

    statements: list[str] = []
    commits: list[object] = []

    def counted(original):
        def run(self, query, *args, **kwargs):
            statements.append(" ".join(str(query).split()))
            return original(self, query, *args, **kwargs)
        return run

    def on_statement(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    def on_commit(conn) -> None:
        commits.append(conn)

    on_psycopg = db.engine.dialect.driver == "psycopg"
    with pytest.MonkeyPatch.context() as patch:
        if on_psycopg:
            for name in ("execute", "executemany"):
                patch.setattr(psycopg.Cursor, name, counted(getattr(psycopg.Cursor, name)))
        else:
            event.listen(db.engine, "before_cursor_execute", on_statement)
        event.listen(db.engine, "commit", on_commit)
        try:
            yield statements, commits
        finally:
            if not on_psycopg:
                event.remove(db.engine, "before_cursor_execute", on_statement)
            event.remove(db.engine, "commit", on_commit)
