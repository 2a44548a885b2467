"""Statements on psycopg's own connection (services/direct.py): reads that open no transaction,
writes completed with the model's defaults, errors raised as SQLAlchemy's."""
from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from conftest import TEST_DATABASE_URL
from configurator.models import Draft, MaterialStock
from configurator.services import direct, drafts, stock

needs_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL (set CONFIGURATOR_TEST_DATABASE_URL): the "
    "direct path is psycopg's; on SQLite these calls go through SQLAlchemy")


@pytest.fixture
def suit(catalog):
    return catalog.products["suit"]


@contextlib.contextmanager
def _commands_sent():
    """BEGIN, COMMIT, ROLLBACK and DEALLOCATE ALL as psycopg sends them."""
    from psycopg._connection_base import BaseConnection

    sent: list[str] = []
    original = BaseConnection._exec_command

    def exec_command(self, command, *args, **kwargs):
        sent.append(command.decode() if isinstance(command, bytes) else str(command))
        return original(self, command, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseConnection, "_exec_command", exec_command)
        yield sent


def test_rows_reads_the_same_rows_on_every_database(app, db, suit):
    stock.ensure_stock(suit)
    db.session.commit()
    levels = stock.stored_levels(suit)
    assert set(levels) == {m.id for m in suit.materials}
    assert all(isinstance(quantity, Decimal) for quantity in levels.values())


def test_insert_rows_fills_the_models_defaults(app, db, suit):
    written = direct.insert_rows(Draft.__table__, [
        {"product_id": "suit", "spec_version": suit.version, "design": {"options": {}},
         "parent_token": None}])
    db.session.commit()
    stored = db.session.execute(select(Draft)).scalar_one()
    assert stored.token == written[0]["token"] and len(stored.token) >= 40
    assert stored.created_at == written[0]["created_at"]
    assert stored.design == {"options": {}}


@needs_postgres
def test_a_page_that_only_reads_opens_no_transaction(app, suit, client):
    with app.app_context():  # not held during the requests: each request has its own session
        token = drafts.save_draft(suit, {"options": {}, "measurements": {}}).token
    client.get(f"/products/suit?draft={token}")  # warm: spec caches, pooled connection
    with _commands_sent() as sent:
        assert client.get(f"/products/suit?draft={token}").status_code == 200
        assert client.post("/api/products/suit/propagate",
                           json={"design": {"options": {}}}).status_code == 200
    assert sent == [], "a read-only page began and rolled back a transaction"


@needs_postgres
def test_a_rollback_is_what_drops_psycopgs_prepared_statements(app, db, suit):
    """Why reads go alone: psycopg answers a ROLLBACK with DEALLOCATE ALL."""
    stock.ensure_stock(suit)
    db.session.commit()
    for _ in range(6):  # psycopg prepares a statement on its fifth run
        db.session.execute(select(MaterialStock.id)).all()
    with _commands_sent() as sent:
        db.session.rollback()
    assert sent == ["ROLLBACK", "DEALLOCATE ALL"]


@needs_postgres
def test_alone_keeps_the_transaction_when_one_is_open_or_changes_are_pending(app, db, suit):
    conn = direct.connection()
    db.session.execute(select(MaterialStock.id)).all()  # a transaction is open
    with direct.alone():
        assert not conn.autocommit
    db.session.rollback()
    db.session.add(MaterialStock(product_id="suit", material_id="new", on_hand=Decimal(1),
                                 reserved=Decimal(0)))
    with direct.alone():  # the query would flush the pending row: it must not commit alone
        assert not direct.connection().autocommit
    db.session.rollback()
    assert db.session.scalar(select(MaterialStock).where(
        MaterialStock.material_id == "new")) is None


@needs_postgres
def test_after_reading_alone_a_write_is_in_a_transaction_again(app, db, suit):
    with direct.alone():
        assert direct.connection().autocommit
        with direct.alone():  # nested: still alone, and the outer one restores it
            pass
        assert direct.connection().autocommit
        assert drafts.get_draft("x" * 43) is None
    assert not direct.connection().autocommit
    direct.insert_rows(Draft.__table__, [
        {"product_id": "suit", "spec_version": suit.version, "design": {}, "parent_token": None}])
    db.session.rollback()
    assert db.session.scalar(select(Draft)) is None


@needs_postgres
def test_psycopg_errors_come_out_as_sqlalchemys(app, db, suit):
    row = {"token": "same-token", "product_id": "suit", "spec_version": suit.version,
           "design": {}, "parent_token": None}
    direct.insert_rows(Draft.__table__, [row])
    with pytest.raises(IntegrityError) as raised:
        conn = direct.connection()
        with direct.pipeline(conn):
            direct.insert_rows(Draft.__table__, [row])
    assert raised.value.orig.diag.constraint_name == "uq_draft_token"
    db.session.rollback()
