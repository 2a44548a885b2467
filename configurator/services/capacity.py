"""Production capacity: minutes booked per station per working day, and the promised date."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from ..domain.model import LineSpec
from ..extensions import db, run_core
from ..models import CapacityBooking
from . import batch

HORIZON_DAYS = 730  # we do not promise dates further out than this

# What every order reads and locks, built once (building a statement costs more CPU than
# running it): plain table columns, values bound at execution.
_BOOKING = CapacityBooking.__table__
_BOOKED_FROM = select(_BOOKING.c.station_id, _BOOKING.c.day, _BOOKING.c.minutes).where(
    _BOOKING.c.station_id.in_(bindparam("stations", expanding=True)),
    _BOOKING.c.day >= bindparam("first"))
_LOCK_ROWS = (
    select(_BOOKING.c.id, _BOOKING.c.station_id, _BOOKING.c.day, _BOOKING.c.minutes)
    .where(tuple_(_BOOKING.c.station_id, _BOOKING.c.day).in_(bindparam("keys", expanding=True)))
    .order_by(_BOOKING.c.station_id, _BOOKING.c.day)
    .with_for_update())


class NoCapacity(Exception):
    """A station has no room within the horizon; the order service reports CapacityExhausted."""

    def __init__(self, station_id: str, message: str):
        self.station_id = station_id
        super().__init__(message)


def station_minutes(routing: Iterable[Mapping]) -> list[tuple[str, int]]:
    """Whole minutes per station, in the order the unit visits them."""
    totals: dict[str, Decimal] = {}
    for step in routing:
        totals[step["station"]] = totals.get(step["station"], Decimal(0)) + Decimal(
            str(step["minutes"]))
    return [(station, math.ceil(minutes)) for station, minutes in totals.items() if minutes > 0]


def is_working_day(line: LineSpec, day: date) -> bool:
    return day.weekday() in line.working_days and day.isoformat() not in line.holidays


def next_working_day(line: LineSpec, day: date) -> date:
    """`day` itself if the line works that day, else the next day it does."""
    for _ in range(HORIZON_DAYS):
        if is_working_day(line, day):
            return day
        day += timedelta(days=1)
    raise NoCapacity("", f"line {line.id!r} has no working day within {HORIZON_DAYS} days")


def earliest_start(line: LineSpec, lead_time_days: int, today: date) -> date:
    """The first day a unit can reach the first station: lead time, then a working day."""
    return next_working_day(line, today + timedelta(days=lead_time_days))


def book_unit(line: LineSpec, routing: Iterable[Mapping], start: date) -> date:
    """Book one unit's routing station after station from `start`; the day the last one ends.

    A station's work for the unit goes on the first day with room for all of it (work longer
    than a whole day spreads over consecutive days). The next station may start the same day.
    """
    day = start
    for station_id, minutes in station_minutes(routing):
        station = line.station(station_id)
        if station is None:
            raise NoCapacity(station_id, f"station {station_id!r} is not on line {line.id!r}")
        day = _book_station(line, station.id, station.minutes_per_day, minutes, day)
    return day


def _book_station(line: LineSpec, station_id: str, capacity: int, minutes: int, day: date) -> date:
    last = day + timedelta(days=HORIZON_DAYS)
    booked = _booked_from(station_id, day)
    while minutes > 0:
        day = next_working_day(line, day)
        if day > last:
            raise NoCapacity(station_id, (
                f"station {station_id!r} is fully booked for the next {HORIZON_DAYS} days"))
        free = capacity - booked.get(day, 0)
        take = minutes if minutes <= free else (free if minutes > capacity else 0)
        if take > 0 and _take(station_id, day, take, capacity):
            minutes -= take
            if minutes == 0:
                return day
        elif take > 0:
            booked = _booked_from(station_id, day)  # someone else booked meanwhile: look again
            continue
        day += timedelta(days=1)
    return day


# -- booking a whole order at once: plan from one read, then lock and write in one batch -----

@dataclass
class Plan:
    """Where each unit's work goes, worked out from one read of the bookings (no locks yet)."""
    units: list[tuple[LineSpec, list[Mapping], date]]  # line, routing, earliest start
    dates: list[date] = field(default_factory=list)  # the day each unit's last station ends
    takes: dict[tuple[str, date], int] = field(default_factory=dict)  # minutes per row
    capacities: dict[str, int] = field(default_factory=dict)  # minutes per day per station
    existing: set[tuple[str, date]] = field(default_factory=set)  # rows already there
    failure: NoCapacity | None = None  # the first unit that does not fit, and why
    failed_unit: int | None = None  # its index


Reader = Callable[[list[str], date], dict[tuple[str, date], int]]


def plan_units(units: Sequence[tuple[LineSpec, Iterable[Mapping], date]],
               read: Reader | None = None) -> Plan:
    """Book `units` (line, routing, earliest start) on paper, in order, as `book_unit` would.

    One query reads every booking of the stations involved (`read(stations, first day)`,
    minutes per (station, day); by default through the session); nothing is locked or
    written, so the caller can store the order with these dates before it takes any lock
    (`book_plan`).
    """
    plan = Plan([(line, list(routing), start) for line, routing, start in units])
    stations = {s for _, routing, _ in plan.units for s, _ in station_minutes(routing)}
    booked = (read or _booked_rows)(
        sorted(stations), min((start for *_, start in plan.units), default=date.max))
    plan.existing = set(booked)
    for index, (line, routing, start) in enumerate(plan.units):
        try:
            plan.dates.append(_plan_unit(line, routing, start, booked, plan))
        except NoCapacity as exc:
            plan.failure, plan.failed_unit = exc, index
            break
    return plan


def book_plan(plan: Plan) -> list[date]:
    """Write a plan: lock its rows in a fixed order (station, day), check they still have the
    room the plan counted on, and add the minutes in one batch. If another order took some of
    that room since the plan was read, book unit by unit (`book_unit`) instead. Returns each
    unit's end day. The locks hold until the caller's transaction ends."""
    if plan.failure is not None:
        raise plan.failure
    if not plan.takes:
        return plan.dates
    _create_rows(new_rows(plan))
    rows = run_core(_LOCK_ROWS, {"keys": list(plan.takes)}).all()
    minutes = minutes_after(plan, rows)
    if minutes is None:
        return book_units(plan)
    # one statement: the rows are ours until the commit
    batch.set_values(_BOOKING.c.minutes, minutes)
    return plan.dates


def new_rows(plan: Plan) -> list[tuple[str, date]]:
    """The (station, day) rows the plan books that nobody had booked when it was read."""
    return [key for key in plan.takes if key not in plan.existing]


def minutes_after(plan: Plan, locked: Iterable) -> dict[int, int] | None:
    """Each locked booking row's minutes with the plan's added (by row id), or None when
    another order took some of the room the plan counted on since it was read."""
    rows = list(locked)
    fits = len(rows) == len(plan.takes) and all(
        row.minutes + plan.takes[(row.station_id, row.day)] <= plan.capacities[row.station_id]
        for row in rows)
    if not fits:
        return None
    return {row.id: row.minutes + plan.takes[(row.station_id, row.day)] for row in rows}


def book_units(plan: Plan) -> list[date]:
    """Book the plan's units one by one as the bookings are now (`book_unit`)."""
    return [book_unit(line, routing, start) for line, routing, start in plan.units]


def _plan_unit(line: LineSpec, routing: list[Mapping], start: date,
               booked: dict[tuple[str, date], int], plan: Plan) -> date:
    day = start
    for station_id, minutes in station_minutes(routing):
        station = line.station(station_id)
        if station is None:
            raise NoCapacity(station_id, f"station {station_id!r} is not on line {line.id!r}")
        plan.capacities[station.id] = station.minutes_per_day
        day = _plan_station(line, station.id, station.minutes_per_day, minutes, day, booked,
                            plan.takes)
    return day


def _plan_station(line: LineSpec, station_id: str, capacity: int, minutes: int, day: date,
                  booked: dict, takes: dict) -> date:
    """`_book_station` on paper: the same days, with `booked` and `takes` updated."""
    last = day + timedelta(days=HORIZON_DAYS)
    while minutes > 0:
        day = next_working_day(line, day)
        if day > last:
            raise NoCapacity(station_id, (
                f"station {station_id!r} is fully booked for the next {HORIZON_DAYS} days"))
        key = (station_id, day)
        free = capacity - booked.get(key, 0)
        take = minutes if minutes <= free else (free if minutes > capacity else 0)
        if take > 0:
            booked[key] = booked.get(key, 0) + take
            takes[key] = takes.get(key, 0) + take
            minutes -= take
            if minutes == 0:
                return day
        day += timedelta(days=1)
    return day


def _booked_rows(stations: list[str], first: date) -> dict[tuple[str, date], int]:
    if not stations:
        return {}
    rows = run_core(_BOOKED_FROM, {"stations": stations, "first": first})
    return {(row.station_id, row.day): row.minutes for row in rows}


def _create_rows(keys: list[tuple[str, date]]) -> None:
    """Empty booking rows for days nobody booked yet; a row a concurrent order just created is
    kept (ON CONFLICT DO NOTHING waits for that order, then skips)."""
    if not keys:
        return
    dialect = db.session.get_bind().dialect.name
    values = [{"station_id": station, "day": day, "minutes": 0} for station, day in sorted(keys)]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # any other database: one savepoint per row
        for value in values:
            try:
                with db.session.begin_nested():
                    db.session.add(CapacityBooking(**value))
            except IntegrityError:
                pass
        return
    db.session.execute(insert(CapacityBooking).on_conflict_do_nothing(), values)


def _booked_from(station_id: str, day: date) -> dict[date, int]:
    rows = db.session.execute(select(CapacityBooking.day, CapacityBooking.minutes).where(
        CapacityBooking.station_id == station_id, CapacityBooking.day >= day))
    return {row.day: row.minutes for row in rows}


def _take(station_id: str, day: date, minutes: int, capacity: int) -> bool:
    """Add `minutes` to the day's booking if it still fits, atomically; False if it does not."""
    result = db.session.execute(
        update(CapacityBooking)
        .where(CapacityBooking.station_id == station_id, CapacityBooking.day == day,
               CapacityBooking.minutes + minutes <= capacity)
        .values(minutes=CapacityBooking.minutes + minutes)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        return True
    exists = db.session.execute(select(CapacityBooking.id).where(
        CapacityBooking.station_id == station_id, CapacityBooking.day == day)).first()
    if exists is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(CapacityBooking(station_id=station_id, day=day, minutes=minutes))
        return True
    except IntegrityError:  # a concurrent order created the row first: try its row
        return _take(station_id, day, minutes, capacity)


def booked_minutes(station_id: str, day: date) -> int:
    """Minutes already booked on a station on a day (0 when nothing is)."""
    value = db.session.execute(select(CapacityBooking.minutes).where(
        CapacityBooking.station_id == station_id, CapacityBooking.day == day)).scalar()
    return value or 0
