"""Production capacity: minutes booked per station per working day, and the promised date."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..domain.model import LineSpec
from ..extensions import db
from ..models import CapacityBooking

HORIZON_DAYS = 730  # we do not promise dates further out than this


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
