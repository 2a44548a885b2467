"""Storing an order on PostgreSQL: `orders._store`'s statements in four round trips.

The same steps and checks as on any other database, on psycopg's own connection in the
session's transaction (`direct`), with the statements whose results are not needed yet queued
in pipeline mode:

1. the bookings of the stations the units visit, and ids for the order and its units;
2. (the capacity planned on paper) the order, its units with their codes, their work orders
   and first events, booking rows for days nobody booked yet; then the stock rows and the
   booking rows, locked in a fixed order (`FOR UPDATE`) and read as they are once locked;
3. (both checked) the new reservations and bookings, and what `before_commit` writes;
4. the commit, by `place_order`.

Through SQLAlchemy the same order took 12 round trips, and SQLAlchemy's own work per statement
was about a third of a keyed partner order's CPU.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm.attributes import set_committed_value

from ..models import Order, Unit
from . import capacity, direct, orders, stock
from .order_checks import CheckedUnit, CustomerDetails

_BOOKED_FROM = """
    SELECT station_id, day, minutes FROM capacity_booking
    WHERE station_id = ANY(%(stations)s) AND day >= %(first)s"""
_NEW_IDS = """
    SELECT nextval(pg_get_serial_sequence('"order"', 'id')) AS order_id,
           ARRAY(SELECT nextval(pg_get_serial_sequence('unit', 'id'))
                 FROM generate_series(1, %(units)s) ORDER BY 1) AS unit_ids"""
_CREATE_BOOKINGS = """
    INSERT INTO capacity_booking (station_id, day, minutes)
    SELECT station_id, day, 0
    FROM unnest(%(stations)s::varchar[], %(days)s::date[]) AS new (station_id, day)
    ORDER BY station_id, day
    ON CONFLICT DO NOTHING"""
_LOCK_STOCK = """
    SELECT id, product_id, material_id, on_hand, reserved FROM material_stock
    WHERE (product_id, material_id) IN (
        SELECT * FROM unnest(%(products)s::varchar[], %(materials)s::varchar[]))
    ORDER BY product_id, material_id
    FOR UPDATE OF material_stock"""
_LOCK_BOOKINGS = """
    SELECT id, station_id, day, minutes FROM capacity_booking
    WHERE (station_id, day) IN (SELECT * FROM unnest(%(stations)s::varchar[], %(days)s::date[]))
    ORDER BY station_id, day
    FOR UPDATE OF capacity_booking"""
_SET_RESERVED = """
    UPDATE material_stock AS s SET reserved = new.reserved
    FROM unnest(%(ids)s::integer[], %(values)s::numeric[]) AS new (id, reserved)
    WHERE s.id = new.id"""
_SET_MINUTES = """
    UPDATE capacity_booking AS b SET minutes = new.minutes
    FROM unnest(%(ids)s::integer[], %(values)s::integer[]) AS new (id, minutes)
    WHERE b.id = new.id"""


def store(customer: CustomerDetails, priced: list[CheckedUnit], source: str,
          partner_id: int | None, partner_reference: str | None, today: date,
          written: list, before_commit: Callable[[Order], None] | None) -> Order:
    """`orders._store` on PostgreSQL; the caller commits."""
    from psycopg.rows import namedtuple_row

    conn = direct.connection()
    orders.ensure_stock(priced)
    ids: dict = {}
    plan = orders.plan_capacity(priced, today, _reader(conn, len(priced), ids))
    orders.refuse_unplanned(priced, plan)
    orders.remember_spec_versions(priced)
    order_row, unit_rows = _new_rows(customer, priced, source, partner_id, partner_reference,
                                     plan, ids)
    order = _loaded(order_row, unit_rows)
    written.extend([order, *order.units])
    wanted = stock.wanted_quantities(orders.material_needs(priced))
    with direct.pipeline(conn):
        direct.insert_rows(Order.__table__, [order_row])
        direct.insert_rows(Unit.__table__, unit_rows)
        orders.insert_unit_rows(order.units)
        stock_rows = conn.cursor(row_factory=namedtuple_row)
        stock_rows.execute(_LOCK_STOCK, _pairs(wanted, "products", "materials"))
        booking_rows = conn.cursor(row_factory=namedtuple_row)
        if new := capacity.new_rows(plan):
            conn.execute(_CREATE_BOOKINGS, _pairs(new, "stations", "days"))
        booking_rows.execute(_LOCK_BOOKINGS, _pairs(plan.takes, "stations", "days"))
        locked_stock, locked_bookings = stock_rows.fetchall(), booking_rows.fetchall()
    try:
        reserved = stock.reserved_after(wanted, locked_stock)
    except stock.InsufficientStock as exc:
        raise orders.out_of_stock(priced, exc) from exc
    minutes = capacity.minutes_after(plan, locked_bookings)
    with direct.pipeline(conn):
        _set(conn, _SET_RESERVED, reserved)
        if minutes is not None:
            _set(conn, _SET_MINUTES, minutes)
            if before_commit is not None:
                before_commit(order)
    if minutes is None:  # another order took the room the plan counted on: book as it is now
        orders.keep_promises(order, orders.book_one_by_one(priced, plan), plan.dates)
        if before_commit is not None:
            before_commit(order)
    return order


def _reader(conn, units: int, ids: dict) -> capacity.Reader:
    """Reads the bookings for the plan, and with them (the same round trip) new ids for the
    order and its units into `ids`."""
    def read(stations: list[str], first: date) -> dict[tuple[str, date], int]:
        with direct.pipeline(conn):
            booked = conn.execute(_BOOKED_FROM, {"stations": stations, "first": first})
            new_ids = conn.execute(_NEW_IDS, {"units": units})
            rows = booked.fetchall() if stations else []
            ids["order"], ids["units"] = new_ids.fetchone()
        return {(station, day): minutes for station, day, minutes in rows}
    return read


def _new_rows(customer: CustomerDetails, priced: list[CheckedUnit], source: str,
              partner_id: int | None, partner_reference: str | None, plan: capacity.Plan,
              ids: dict) -> tuple[dict, list[dict]]:
    """The order's row and its units' rows as they will be stored, with the model's defaults
    and the ids taken from the sequences (so each unit has its code)."""
    order_row = direct.with_defaults(Order.__table__, {"id": ids["order"], **orders.order_row(
        customer, priced, source, partner_id, partner_reference, plan.dates)})
    unit_rows = [direct.with_defaults(Unit.__table__, {
        **orders.unit_row(order_row["id"], p, day), "id": unit_id,
        "code": orders.unit_code(unit_id)})
        for p, day, unit_id in zip(priced, plan.dates, ids["units"])]
    return order_row, unit_rows


def _loaded(order_row: dict, unit_rows: list[dict]) -> Order:
    """The order and its units in the session as if loaded; nothing is written yet."""
    order = orders.loaded(Order, order_row)
    set_committed_value(order, "units", [orders.loaded(Unit, row) for row in unit_rows])
    return order


def _pairs(keys, first: str, second: str) -> dict[str, list]:
    """(a, b) keys as two arrays, for `unnest`."""
    pairs = sorted(keys)
    return {first: [a for a, _ in pairs], second: [b for _, b in pairs]}


def _set(conn, statement: str, values: dict) -> None:
    if values:
        conn.execute(statement, {"ids": list(values), "values": list(values.values())})
