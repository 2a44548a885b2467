"""No overbooking on PostgreSQL: fifty orders racing for the last metres of a cloth or the last
minutes of a station's day get exactly what fits; the rest are refused with a clear message.

Each racer is a thread with its own app context, session and connection, released together by a
barrier, so the transactions really overlap (READ COMMITTED, as in production).
"""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select, text

from configurator.domain import bill_of_materials, routing
from configurator.models import CapacityBooking, MaterialStock, Order, Unit
from configurator.services import capacity, stock
from configurator.services.orders import (CapacityExhausted, OutOfStock, UnitRequest,
                                          place_order)
from conftest import TEST_DATABASE_URL, complete_design

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL, reason=(
        "needs PostgreSQL: set CONFIGURATOR_TEST_DATABASE_URL (SQLite serialises every writer, "
        "so it cannot show a race)")),
]

MONDAY = date(2026, 3, 2)
RACERS = 50


@pytest.fixture
def app_config(app_config):
    # One connection per racer, so no racer waits for the pool instead of for the database.
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": RACERS, "max_overflow": 4,
                                               "pool_pre_ping": True}
    return app_config


def _race(app, attempts):
    """Run each callable in its own thread and app context, all released at once."""
    from configurator.extensions import db

    barrier = threading.Barrier(len(attempts))
    results: list[object] = [None] * len(attempts)

    def run(i):
        with app.app_context():
            try:
                db.session.execute(select(1))  # hold a connection before the start
                db.session.rollback()
                barrier.wait(timeout=120)
                results[i] = attempts[i]().reference
            except Exception as exc:  # the outcome under test, checked by the caller
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def _plenty_of_everything(spec, design, db) -> None:
    for line in bill_of_materials(spec, design):
        stock.set_on_hand(spec, line.material, line.quantity * 1000)
    db.session.commit()


def test_fifty_orders_for_the_last_metres_of_a_cloth_get_exactly_what_fits(
        app, db, catalog, customer):
    suit = catalog.products["suit"]
    design = complete_design(suit)
    cloth = next(line for line in bill_of_materials(suit, design)
                 if line.material.startswith("cloth-"))
    need = stock.round_up(cloth.quantity)
    fits = 7
    _plenty_of_everything(suit, design, db)
    stock.set_on_hand(suit, cloth.material, need * fits + need / 2)  # 7.5 suits' worth
    db.session.commit()

    results = _race(app, [lambda: place_order(customer, [UnitRequest("suit", design)],
                                              today=MONDAY)] * RACERS)

    placed = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if not isinstance(r, str)]
    assert len(placed) == fits, refused
    assert all(isinstance(r, OutOfStock) for r in refused), refused
    for exc in refused:
        (problem,) = exc.problems
        assert problem.field == "options.fabric" and problem.rule == "out-of-stock"
        assert f"{need} needed" in problem.message and "please choose another" in problem.message
    db.session.expire_all()
    row = db.session.execute(select(MaterialStock).where(
        MaterialStock.product_id == "suit",
        MaterialStock.material_id == cloth.material)).scalar_one()
    assert row.reserved == need * fits and row.available == need / 2
    assert _count(db, Order) == fits and _count(db, Unit) == fits


def test_fifty_orders_for_the_last_minutes_of_a_station_day_get_exactly_what_fits(
        app, db, catalog, customer):
    """Suits and washing machines (no material in common, so nothing else orders them) race
    for the packing station, whose only free minutes in the whole booking horizon are on one
    day: room for exactly five units of 10 minutes."""
    suit, machine = catalog.products["suit"], catalog.products["washing-machine"]
    designs = {"suit": complete_design(suit), "washing-machine": complete_design(machine)}
    for spec in (suit, machine):
        _plenty_of_everything(spec, designs[spec.id], db)
        assert _station_minutes(spec, designs[spec.id], "packing") == 10
    packing = suit.line.station("packing").minutes_per_day
    the_day = capacity.earliest_start(suit.line, suit.lead_time_days, MONDAY)
    fits = 5
    _fill_station(db, suit.line, "packing", MONDAY, the_day, free=10 * fits + 5)

    attempts = [lambda product=product: place_order(
        customer, [UnitRequest(product, designs[product])], today=MONDAY)
        for product in ("suit", "washing-machine") * (RACERS // 2)]
    results = _race(app, attempts)

    placed = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if not isinstance(r, str)]
    assert len(placed) == fits, refused
    assert all(isinstance(r, CapacityExhausted) for r in refused), refused
    for exc in refused:
        (problem,) = exc.problems
        assert problem.rule == "capacity" and problem.field == "routing"
        assert "station 'packing' is fully booked" in problem.message
        assert "please try again later" in problem.message
    db.session.expire_all()
    assert capacity.booked_minutes("packing", the_day) == packing - 5
    over = db.session.execute(select(func.count()).select_from(CapacityBooking).where(
        CapacityBooking.minutes > _capacities(suit.line))).scalar_one()
    assert over == 0
    promised = db.session.execute(select(Unit.promised_date)).scalars().all()
    assert promised == [the_day] * fits


def test_a_deadlock_is_retried_not_reported(app, db, catalog, customer):
    """Another transaction takes a packing day, then waits for a stock row our order holds:
    PostgreSQL aborts our order to break the deadlock, and the order service tries again."""
    suit = catalog.products["suit"]
    design = complete_design(suit)
    _plenty_of_everything(suit, design, db)
    the_day = capacity.earliest_start(suit.line, suit.lead_time_days, MONDAY)
    db.session.add(CapacityBooking(station_id="packing", day=the_day, minutes=0))
    db.session.commit()
    material = sorted(line.material for line in bill_of_materials(suit, design))[0]

    other = db.engine.connect()
    try:
        other.execute(text("SET deadlock_timeout = '20s'"))  # so our order is the one aborted
    except Exception as exc:  # DBAPIError: only a superuser may set it
        other.close()
        pytest.skip(f"cannot set deadlock_timeout here: {exc}")
    other.execute(text("UPDATE capacity_booking SET minutes = minutes "
                       "WHERE station_id = 'packing' AND day = :day"), {"day": the_day})
    outcome: list[object] = []
    order = threading.Thread(target=lambda: outcome.extend(_race(app, [
        lambda: place_order(customer, [UnitRequest("suit", design)], today=MONDAY)])))
    order.start()
    _wait_for_lock_wait(db)
    other.execute(text("UPDATE material_stock SET reserved = reserved "
                       "WHERE product_id = 'suit' AND material_id = :m"), {"m": material})
    other.commit()
    other.close()
    order.join(timeout=120)
    assert len(outcome) == 1 and isinstance(outcome[0], str), outcome
    assert capacity.booked_minutes("packing", the_day) == 10


# -- helpers --------------------------------------------------------------------------------

def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _station_minutes(spec, design, station: str) -> int:
    return dict(capacity.station_minutes(
        [{"station": s.station, "minutes": s.minutes} for s in routing(spec, design)]))[station]


def _fill_station(db, line, station: str, start: date, the_day: date, free: int) -> None:
    """Every working day of the horizon full, except `free` minutes on `the_day`."""
    full = line.station(station).minutes_per_day
    rows, day = [], start
    while day <= the_day + timedelta(days=capacity.HORIZON_DAYS + 30):
        if capacity.is_working_day(line, day):
            rows.append({"station_id": station, "day": day,
                         "minutes": full - free if day == the_day else full})
        day += timedelta(days=1)
    db.session.execute(insert(CapacityBooking), rows)
    db.session.commit()


def _capacities(line):
    """A SQL CASE giving each booking's station capacity."""
    from sqlalchemy import case

    return case({s.id: s.minutes_per_day for s in line.stations},
                value=CapacityBooking.station_id, else_=0)


def _wait_for_lock_wait(db) -> None:
    """Until some session of this database waits for a row lock (our order, blocked)."""
    import time

    for _ in range(600):
        waiting = db.session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one()
        db.session.rollback()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the order never waited for the packing day")
