"""What planners look at: filtered unit lists, material requirements, CSV exports (reads only)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import MaterialStock, Order, Unit, WorkOrder

SORTS = {
    "promised": (Unit.promised_date, Unit.code),
    "-promised": (Unit.promised_date.desc(), Unit.code),
    "code": (Unit.code,),
    "status": (Unit.status, Unit.promised_date),
    "product": (Unit.product_id, Unit.promised_date),
}
DONE_STATUSES = ("packed", "packing", "shipped")


@dataclass(frozen=True)
class UnitFilter:
    status: str = ""
    product: str = ""
    station: str = ""  # units whose routing passes through this station
    promised_from: date | None = None
    promised_to: date | None = None
    work_order: str = ""  # pending | rendering | done | failed
    order_reference: str = ""
    sort: str = "promised"


PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    """One page of a filtered unit list and where it sits in the whole."""
    items: list[Unit]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _filtered(f: UnitFilter) -> Select:
    query = select(Unit).join(Unit.order).outerjoin(Unit.work_order)
    if f.status:
        query = query.where(Unit.status == f.status)
    if f.product:
        query = query.where(Unit.product_id == f.product)
    if f.promised_from:
        query = query.where(Unit.promised_date >= f.promised_from)
    if f.promised_to:
        query = query.where(Unit.promised_date <= f.promised_to)
    if f.work_order:
        query = query.where(WorkOrder.status == f.work_order)
    if f.order_reference:
        query = query.where(Order.reference == f.order_reference.strip().upper())
    return query.order_by(*SORTS.get(f.sort, SORTS["promised"]))


def _with_relations(query: Select) -> Select:
    return query.options(selectinload(Unit.order), selectinload(Unit.work_order))


def list_units(f: UnitFilter, limit: int = 100_000) -> list[Unit]:
    """Every unit the filter selects (up to `limit`), for exports."""
    units = db.session.execute(_with_relations(_filtered(f))).scalars().all()
    if f.station:  # routing is a JSON snapshot: filter in Python, portable across databases
        units = [u for u in units if _passes(u.routing, f.station)]
    return units[:limit]


def page_of_units(f: UnitFilter, number: int = 1, size: int | None = None) -> Page:
    """Page `number` (1-based) of the filtered list; only that page's units are loaded."""
    query, size = _filtered(f), size or PAGE_SIZE
    if f.station:  # filter the light (id, routing) rows, then load one page of units
        ids = [uid for uid, route in db.session.execute(query.with_only_columns(
            Unit.id, Unit.routing)) if _passes(route, f.station)]
        total, number = len(ids), _clamp(number, len(ids), size)
        page_ids = ids[(number - 1) * size:number * size]
        items = db.session.execute(
            _with_relations(query.where(Unit.id.in_(page_ids)))).scalars().all()
    else:
        total = db.session.scalar(select(func.count()).select_from(
            query.order_by(None).subquery()))
        number = _clamp(number, total, size)
        items = db.session.execute(_with_relations(
            query.limit(size).offset((number - 1) * size))).scalars().all()
    return Page(items=list(items), number=number, size=size, total=total)


def _passes(routing: list, station: str) -> bool:
    return any(step["station"] == station for step in routing)


def _clamp(number: int, total: int, size: int) -> int:
    return min(max(1, number), max(1, -(-total // size)))


def count_units(f: UnitFilter) -> int:
    return db.session.scalar(select(func.count()).select_from(
        _filtered(f).order_by(None).subquery()))


def units_due(days: int, today: date | None = None) -> list[Unit]:
    """Everything not yet packed that is promised within the next `days` days."""
    today = today or date.today()
    query = select(Unit).where(Unit.promised_date <= today + timedelta(days=days),
                               Unit.status.not_in(DONE_STATUSES))
    return list(db.session.execute(query).scalars())


def list_orders(sort: str = "-created", product: str = "") -> list[Order]:
    query = select(Order).options(selectinload(Order.units))
    if product:
        query = query.where(Order.units.any(Unit.product_id == product))
    order_by = {"-created": Order.created_at.desc(), "promised": Order.promised_date,
                "reference": Order.reference}.get(sort, Order.created_at.desc())
    return list(db.session.execute(query.order_by(order_by).limit(500)).scalars())


@dataclass(frozen=True)
class MaterialNeed:
    product_id: str
    material_id: str
    name: str
    unit: str
    needed: Decimal
    on_hand: Decimal | None
    units: int

    @property
    def shortfall(self) -> Decimal:
        return max(Decimal(0), self.needed - (self.on_hand or Decimal(0)))


def material_requirements(start: date, end: date) -> list[MaterialNeed]:
    """Material still to be cut (units queued, promised in [start, end]) against stock on hand."""
    units = db.session.execute(select(Unit).where(
        Unit.promised_date.between(start, end), Unit.status == "queued")).scalars()
    needs: dict[tuple[str, str], dict] = {}
    for unit in units:
        for line in unit.bill:
            key = (unit.product_id, line["material"])
            need = needs.setdefault(key, {"name": line.get("name", ""),
                                          "unit": line.get("unit", ""),
                                          "needed": Decimal(0), "units": 0})
            need["needed"] += Decimal(str(line["quantity"]))
            need["units"] += 1
    stock = {(s.product_id, s.material_id): s.on_hand
             for s in db.session.execute(select(MaterialStock)).scalars()}
    return [MaterialNeed(p, m, n["name"], n["unit"], n["needed"], stock.get((p, m)), n["units"])
            for (p, m), n in sorted(needs.items())]


def _cell(value) -> str:
    """Spreadsheet-safe: a cell typed by a customer never becomes a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(header: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def units_csv(units: list[Unit]) -> str:
    return csv_text(
        ["unit", "order", "customer", "product", "label", "status", "promised_date", "price",
         "work_order"],
        ([u.code, u.order.reference, u.order.customer_name, u.product_id, u.label, u.status,
          u.promised_date.isoformat(), u.price, u.work_order.status if u.work_order else ""]
         for u in units))


def orders_csv(orders: list[Order]) -> str:
    return csv_text(
        ["order", "customer", "email", "source", "partner_reference", "units", "total",
         "currency", "promised_date", "created_at"],
        ([o.reference, o.customer_name, o.email, o.source, o.partner_reference or "",
          len(o.units), o.total, o.currency, o.promised_date.isoformat(),
          o.created_at.isoformat(timespec="seconds")] for o in orders))
