"""The order service: everything re-checked, stock and capacity booked, snapshots stored, and
nothing written when anything is wrong."""
from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from configurator.models import (CapacityBooking, MaterialStock, Order, SpecSource, Unit,
                                 UnitEvent, WorkOrder)
from configurator.services import capacity, stock
from configurator.services.orders import (CustomerDetails, OrderRejected, OutOfStock,
                                          UnitRequest, place_order)
from conftest import TEST_DATABASE_URL, complete_design

MONDAY = date(2026, 3, 2)


@pytest.fixture
def suit(catalog):
    return catalog.products["suit"]


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _fabric_material(spec, design) -> str:
    fabric = next(o for o in spec.options if o.display == "swatch")
    return fabric.choice(design["options"][fabric.id]).material


def test_place_order_stores_units_with_full_snapshots(db, suit, customer):
    design = complete_design(suit)
    order = place_order(customer, [UnitRequest("suit", design, "for Ana"),
                                   UnitRequest("suit", design, "for Rui")], today=MONDAY)
    assert re.fullmatch(r"C2B-[2-9A-Z]{6}", order.reference)
    stored = db.session.get(Order, order.id)
    assert [u.label for u in stored.units] == ["for Ana", "for Rui"]
    unit = stored.units[0]
    assert re.fullmatch(r"U-\d{4}-\d{6}", unit.code)
    assert unit.design == design and unit.spec_version == suit.version
    assert unit.quote["total"] == str(unit.price) and unit.bill and unit.routing
    assert all(isinstance(line["quantity"], str) for line in unit.bill)
    assert stored.total == sum(u.price for u in stored.units)
    assert db.session.get(SpecSource, suit.version) is not None
    assert _count(db, WorkOrder) == 2 and _count(db, UnitEvent) == 2
    assert unit.events[0].to_status == "queued" and unit.events[0].actor == "system"


def test_an_order_whose_random_reference_is_taken_is_placed_with_another(db, suit, customer,
                                                                         monkeypatch):
    from configurator.services import orders

    design = complete_design(suit)
    fabric = select(MaterialStock.reserved).where(
        MaterialStock.material_id == _fabric_material(suit, design))
    first = place_order(customer, [UnitRequest("suit", design)], today=MONDAY)
    one_suit = db.session.scalars(fabric).one()
    draws = iter([first.reference, "C2B-NEW234"])
    monkeypatch.setattr(orders, "_new_reference", lambda: next(draws))
    second = place_order(customer, [UnitRequest("suit", design)], today=MONDAY)
    assert second.reference == "C2B-NEW234"
    assert _count(db, Order) == 2 and _count(db, Unit) == 2 and _count(db, WorkOrder) == 2
    assert db.session.scalars(fabric).one() == 2 * one_suit  # the first try left nothing


def test_promised_date_is_a_working_day_after_the_lead_time(db, suit, customer):
    order = place_order(customer, [UnitRequest("suit", complete_design(suit))], today=MONDAY)
    assert order.promised_date >= MONDAY + timedelta(days=suit.lead_time_days)
    assert capacity.is_working_day(suit.line, order.promised_date)


def test_order_reserves_the_material_of_each_unit(db, suit, customer):
    design = complete_design(suit)
    material = _fabric_material(suit, design)
    before = stock.stored_levels(suit)[material]
    place_order(customer, [UnitRequest("suit", design)] * 2, today=MONDAY)
    after = stock.stored_levels(suit)[material]
    assert Decimal(0) < before - after


def test_invalid_email_is_rejected_and_nothing_is_written(db, suit):
    bad = CustomerDetails(name="Ana", email="ana-at-example", address="Porto")
    with pytest.raises(OrderRejected) as caught:
        place_order(bad, [UnitRequest("suit", complete_design(suit))])
    assert [p.field for p in caught.value.problems] == ["customer.email"]
    assert _count(db, Order) == 0 and _count(db, MaterialStock) == 0


def test_invalid_unit_names_the_unit_and_the_field(db, suit, customer):
    good = complete_design(suit)
    bad = {**good, "measurements": {**good["measurements"], "chest": 10_000}}
    with pytest.raises(OrderRejected) as caught:
        place_order(customer, [UnitRequest("suit", good), UnitRequest("suit", bad)])
    problem = caught.value.problems[0]
    assert problem.unit == 2 and problem.field == "measurements.chest"
    assert "unit 2: measurements.chest" in str(caught.value)
    assert _count(db, Order) == 0


def test_unknown_product_and_garbage_design_are_problems_not_crashes(db, customer):
    with pytest.raises(OrderRejected) as caught:
        place_order(customer, [UnitRequest("spaceship", {}), UnitRequest("suit", "nonsense")])
    assert {p.unit for p in caught.value.problems} == {1, 2}


def test_order_without_units_is_rejected(db, customer):
    with pytest.raises(OrderRejected, match="no units"):
        place_order(customer, [])


def test_running_out_of_material_rejects_the_whole_order(db, suit, customer):
    design = complete_design(suit)
    material = _fabric_material(suit, design)
    stock.set_on_hand(suit, material, Decimal("5"))  # about one suit's worth
    db.session.commit()
    with pytest.raises(OutOfStock) as caught:
        place_order(customer, [UnitRequest("suit", design)] * 3, today=MONDAY)
    fabric = next(o for o in suit.options if o.display == "swatch")
    assert {p.field for p in caught.value.problems} == {f"options.{fabric.id}"}
    assert all(p.rule == "out-of-stock" for p in caught.value.problems)
    assert stock.stored_levels(suit)[material] == Decimal("5")  # nothing stayed reserved
    assert _count(db, Order) == 0 and _count(db, CapacityBooking) == 0


def test_a_full_station_pushes_the_promised_date(db, suit, customer):
    design = complete_design(suit)
    first = place_order(customer, [UnitRequest("suit", design)], today=MONDAY)
    unit = first.units[0]
    station = unit.routing[0]["station"]
    start = capacity.earliest_start(suit.line, suit.lead_time_days, MONDAY)
    booking = db.session.execute(select(CapacityBooking).where(
        CapacityBooking.station_id == station, CapacityBooking.day == start)).scalar_one()
    booking.minutes = suit.line.station(station).minutes_per_day  # the day is now full
    db.session.commit()
    second = place_order(customer, [UnitRequest("suit", design)], today=MONDAY)
    assert second.promised_date > first.promised_date
    assert capacity.booked_minutes(station, start) == suit.line.station(station).minutes_per_day


def test_booking_never_exceeds_a_station_capacity(db, suit, customer):
    design = complete_design(suit)
    place_order(customer, [UnitRequest("suit", design)] * 12, today=MONDAY)
    rows = db.session.execute(select(CapacityBooking)).scalars().all()
    for row in rows:
        assert row.minutes <= suit.line.station(row.station_id).minutes_per_day
        assert capacity.is_working_day(suit.line, row.day)


def test_units_are_stored_in_order_and_searchable(db, suit, customer):
    place_order(customer, [UnitRequest("suit", complete_design(suit))], today=MONDAY)
    assert db.session.execute(select(Unit.status)).scalar_one() == "queued"


@pytest.mark.postgres
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL "
                    "(set CONFIGURATOR_TEST_DATABASE_URL) for concurrent transactions")
def test_two_orders_racing_for_the_last_cloth_cannot_both_win(app, suit, customer):
    design = complete_design(suit)
    material = _fabric_material(suit, design)
    with app.app_context():
        from configurator.extensions import db

        stock.set_on_hand(suit, material, Decimal("5"))
        db.session.commit()
    outcomes: list[str] = []

    def buy():
        with app.app_context():
            try:
                place_order(customer, [UnitRequest("suit", design)], today=MONDAY)
                outcomes.append("placed")
            except OutOfStock:
                outcomes.append("out of stock")

    threads = [threading.Thread(target=buy) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("placed") == 1, outcomes
    with app.app_context():
        assert stock.stored_levels(suit)[material] >= 0
