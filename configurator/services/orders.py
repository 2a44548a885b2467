"""Placing an order: check everything again (`order_checks`), reserve stock, book capacity,
store snapshots.

The shop, the partners' intake and the demo data all come through `place_order`; nothing is
written unless the whole order can be made.
"""
from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db, run_core
from ..models import Order, SpecSource, Unit, UnitEvent, WorkOrder
from ..models._types import utcnow
from ..specs_registry import remember_spec_version
from . import batch, capacity, direct, stock
from .order_checks import (  # noqa: F401  (the order service's vocabulary: callers import it here)
    MAX_UNITS, CheckedUnit, CustomerDetails, OrderRejected, Problem, UnitRequest, check_design,
    check_units, clean_customer, normal_email, normalise_design)

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out on the phone
STORE_ATTEMPTS = 5  # a transaction PostgreSQL aborted to break a deadlock is run again
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
REFERENCE_CONSTRAINT = "uq_order_reference"


class OutOfStock(OrderRejected):
    """A material ran out between designing and ordering."""


class CapacityExhausted(OrderRejected):
    """The line has no room within the booking horizon."""


def place_order(customer: CustomerDetails, units: Sequence[UnitRequest | CheckedUnit], *,
                source: str = "shop", partner_id: int | None = None,
                partner_reference: str | None = None, today: date | None = None,
                before_commit: Callable[[Order], None] | None = None) -> Order:
    """Check and store an order in one transaction, then hand its work orders to the renderer.
    `before_commit(order)` runs last in that transaction (once per try), with the order and
    its units written: what it writes commits with the order or not at all. On PostgreSQL it
    runs inside the order's last pipeline (`orders_pg`), so it writes with
    `direct.insert_rows`, not through the session, and reads nothing back."""
    customer = clean_customer(customer)
    priced = check_units(units)
    today = today or date.today()
    for attempt in range(1, STORE_ATTEMPTS + 1):
        written: list = []  # the order and its units, once inserted
        try:
            store = _store_pg() if direct.connection() is not None else _store
            order = store(customer, priced, source, partner_id, partner_reference, today,
                          written, before_commit)
            _commit_keeping(order)
            break
        except DBAPIError as exc:
            _roll_back(written)
            if attempt == STORE_ATTEMPTS or not _retryable(exc):
                raise
            log.warning("order transaction aborted (%s), attempt %d: trying again",
                        getattr(exc.orig, "sqlstate", "?"), attempt)
            time.sleep(random.uniform(0, 0.02 * attempt))  # let the other transaction finish
        except BaseException:
            _roll_back(written)
            raise
    enqueue_work_orders([unit.id for unit in order.units])
    return order


def _store_pg():
    from . import orders_pg  # it builds on this module

    return orders_pg.store


def _roll_back(written: list) -> None:
    """Roll the transaction back and forget the order and units it wrote: they entered the
    session as loaded rows, which a rollback keeps, and their ids may be handed out again
    (SQLite)."""
    db.session.rollback()
    for obj in written:
        if obj in db.session:
            db.session.expunge(obj)


def _commit_keeping(order: Order) -> None:
    """Commit, and keep the new order and its units loaded: a commit expires every object, and
    reading back rows just written is a query or two for nothing. Held out of the session
    during the commit, put back after it (no SQL either way)."""
    db.session.flush()
    db.session.expunge(order)  # with its units
    db.session.commit()
    db.session.add(order)


def _retryable(exc: DBAPIError) -> bool:
    """Deadlocks and serialization failures: the database undid everything; run it again.
    So is a random order reference that was taken already: the next try draws another.

    SQLite says "database is locked" at once (without waiting) when a transaction that has
    read must become a writer while another one writes: the same kind of deadlock.
    """
    if "database is locked" in str(exc.orig) or unique_violated(
            exc, REFERENCE_CONSTRAINT, "order.reference"):
        return True
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def unique_violated(exc: DBAPIError, constraint: str, sqlite_columns: str) -> bool:
    """Whether `exc` is the unique constraint `constraint` refusing a row: PostgreSQL names the
    constraint, SQLite only its columns ("UNIQUE constraint failed: <sqlite_columns>")."""
    if not isinstance(exc, IntegrityError):
        return False
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None) == constraint
    return f"UNIQUE constraint failed: {sqlite_columns}" in str(exc.orig)


def enqueue_work_orders(unit_ids: list[int]) -> None:
    """Hand stored units' work orders to the renderer, after the commit; never raises."""
    from ..workorders.queue import hand_over

    try:
        hand_over(unit_ids)
    except Exception:  # the order is stored; pending work orders can be rendered again later
        log.exception("could not hand over the work orders of units %s", unit_ids)


# -- storing --------------------------------------------------------------------------------

def _store(customer: CustomerDetails, priced: list[CheckedUnit], source: str,
           partner_id: int | None, partner_reference: str | None, today: date,
           written: list, before_commit: Callable[[Order], None] | None) -> Order:
    """Write the order, then take the locks: stock and capacity rows are shared by every order,
    so they are locked last, in a fixed order, and held only for a few statements until the
    commit. Everything else (reads, the order's own rows) happens before. (On PostgreSQL,
    `orders_pg.store` does the same in four round trips.)"""
    ensure_stock(priced)
    plan = plan_capacity(priced, today)
    refuse_unplanned(priced, plan)
    remember_spec_versions(priced)
    order = loaded(Order, run_core(_INSERT_ORDER, order_row(
        customer, priced, source, partner_id, partner_reference, plan.dates)).one()._mapping)
    written.append(order)
    written.extend(_insert_units(order, priced, plan.dates))  # before the locks
    _reserve_stock(priced, ensure=False)
    keep_promises(order, _book_planned(priced, plan), plan.dates)
    if before_commit is not None:
        before_commit(order)
    return order


def refuse_unplanned(priced: list[CheckedUnit], plan: capacity.Plan) -> None:
    """CapacityExhausted for the first unit the line has no room for; but a material running
    out is the news to give first."""
    if plan.failure is not None:
        _reserve_stock(priced, ensure=False)
        raise _capacity_exhausted(priced[plan.failed_unit], plan.failure)


def order_row(customer: CustomerDetails, priced: list[CheckedUnit], source: str,
              partner_id: int | None, partner_reference: str | None,
              dates: list[date]) -> dict:
    return {"reference": _new_reference(), "source": source, "customer_name": customer.name,
            "email": customer.email, "address": customer.address,
            "currency": priced[0].spec.currency,
            "total": sum((p.price for p in priced), Decimal(0)), "promised_date": max(dates),
            "partner_id": partner_id, "partner_reference": partner_reference}


def keep_promises(order: Order, promised: list[date], planned: list[date]) -> None:
    """Dates as booked, where another order took the room the plan counted on."""
    if promised != planned:
        for unit, unit_date in zip(order.units, promised):
            unit.promised_date = unit_date
        order.promised_date = max(promised)


def _insert_units(order: Order, priced: list[CheckedUnit], dates: list[date]) -> list[Unit]:
    """The order's units, their pending work orders and first events, in one statement each
    rather than through the session's unit of work, whose cost grows with every unit (ten
    units: about a quarter less CPU for the order); `order.units` is set."""
    units = [loaded(Unit, row._mapping) for row in run_core(
        _INSERT_UNITS, [unit_row(order.id, p, day) for p, day in zip(priced, dates)])]
    codes = {unit.id: unit_code(unit.id) for unit in units}
    batch.set_values(Unit.__table__.c.code, codes)
    insert_unit_rows(units)
    for unit in units:
        set_committed_value(unit, "code", codes[unit.id])
    set_committed_value(order, "units", units)
    return units


def insert_unit_rows(units: list[Unit]) -> None:
    """Each new unit's pending work order and first event."""
    direct.insert_rows(WorkOrder.__table__, [
        {"unit_id": unit.id, "status": "pending"} for unit in units])
    direct.insert_rows(UnitEvent.__table__, [
        {"unit_id": unit.id, "from_status": None, "to_status": "queued", "actor": "system",
         "note": "order placed"} for unit in units])


# Built once: Core INSERT ... RETURNING, not the ORM's unit of work (its flush of one order
# and its units cost more CPU than every other statement of the order together).
_INSERT_ORDER = insert(Order.__table__).returning(*Order.__table__.c)
_INSERT_UNITS = insert(Unit.__table__).returning(*Unit.__table__.c, sort_by_parameter_order=True)


def loaded(model: type, row: Mapping):
    """An object for a row just inserted, in the session as if loaded (no SQL)."""
    obj = model(**row)
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


def unit_row(order_id: int, p: CheckedUnit, promised: date) -> dict:
    return {"order_id": order_id, "code": f"tmp-{secrets.token_hex(12)}", "position": p.position,
            "label": p.request.label, "product_id": p.spec.id, "spec_version": p.spec.version,
            "design": p.design, "quote": p.quote, "bill": p.bill, "routing": p.routing,
            "price": p.price, "status": "queued", "promised_date": promised}


def add_unit(order: Order, p: CheckedUnit, today: date, note: str) -> Unit:
    """One more unit on a stored order (a remake): stock reserved, capacity booked, work order
    pending, all in the caller's transaction; the caller commits, then enqueues the render."""
    _reserve_stock([p])
    promised = _book_capacity([p], today)[0]
    unit = _new_unit(p, promised, note)
    order.units.append(unit)
    db.session.flush()
    unit.code = unit_code(unit.id)
    return unit


def unit_code(unit_id: int) -> str:
    return f"U-{utcnow().strftime('%y%m')}-{unit_id:06d}"


def _new_unit(p: CheckedUnit, promised: date, note: str = "order placed") -> Unit:
    unit = Unit(
        code=f"tmp-{secrets.token_hex(12)}", position=p.position, label=p.request.label,
        product_id=p.spec.id, spec_version=p.spec.version, design=p.design, quote=p.quote,
        bill=p.bill, routing=p.routing, price=p.price, status="queued", promised_date=promised)
    unit.work_order = WorkOrder(status="pending")
    unit.events.append(UnitEvent(from_status=None, to_status="queued", actor="system",
                                 note=note))
    return unit


def remember_spec_versions(priced: list[CheckedUnit]) -> None:
    """Store each spec version's source once; two first orders of a new version may race."""
    stored = current_app.extensions.setdefault("spec_versions_stored", set())
    for spec in {p.spec.version: p.spec for p in priced}.values():
        if spec.version in stored or db.session.get(SpecSource, spec.version) is not None:
            stored.add(spec.version)
            continue
        try:
            with db.session.begin_nested():
                remember_spec_version(spec)
        except IntegrityError:  # a concurrent order stored it first: the same text
            pass


def ensure_stock(priced: list[CheckedUnit]) -> None:
    for spec in {p.spec.id: p.spec for p in priced}.values():
        stock.ensure_stock_once(spec)


def _reserve_stock(priced: list[CheckedUnit], ensure: bool = True) -> None:
    if ensure:
        ensure_stock(priced)
    try:
        stock.reserve_many(material_needs(priced))
    except stock.InsufficientStock as exc:
        raise out_of_stock(priced, exc) from exc


def material_needs(priced: list[CheckedUnit]) -> dict[tuple[str, str], Decimal]:
    """The order's quantity of each (product, material)."""
    needs: dict[tuple[str, str], Decimal] = {}
    for p in priced:
        for line in p.bill:
            key = (p.spec.id, line["material"])
            needs[key] = needs.get(key, Decimal(0)) + Decimal(line["quantity"])
    return needs


def out_of_stock(priced: list[CheckedUnit], exc: stock.InsufficientStock) -> OutOfStock:
    stock.forget_levels(exc.product_id)  # the shop shows what the refusal says
    return OutOfStock(_out_of_stock_problems(priced, exc))


def _out_of_stock_problems(priced: list[CheckedUnit],
                           exc: stock.InsufficientStock) -> list[Problem]:
    problems = []
    for p in priced:
        if p.spec.id != exc.product_id:
            continue
        if any(line["material"] == exc.material_id for line in p.bill):
            material = p.spec.material(exc.material_id)
            name = material.name if material else exc.material_id
            problems.append(Problem(p.position, _field_of_material(p, exc.material_id),
                                    "out-of-stock", (
                f"{name} is out of stock ({exc.available} {material.unit if material else ''} "
                f"left, {exc.needed} needed for the order); please choose another.").replace(
                    " )", ")")))
    return problems


def _field_of_material(p: CheckedUnit, material_id: str) -> str:
    """The option whose chosen choice brings this material in: what the shopper should change."""
    for usage in p.spec.usage:
        if usage.material_of:
            option = p.spec.option(usage.material_of)
            chosen = p.design["options"].get(usage.material_of, "")
            choice = option.choice(chosen) if option else None
            if choice is not None and choice.material == material_id:
                return f"options.{usage.material_of}"
    return "design"


def _book_capacity(priced: list[CheckedUnit], today: date) -> list[date]:
    return _book_planned(priced, plan_capacity(priced, today))


def plan_capacity(priced: list[CheckedUnit], today: date,
                  read: capacity.Reader | None = None) -> capacity.Plan:
    try:
        return capacity.plan_units([
            (p.spec.line, p.routing,
             capacity.earliest_start(p.spec.line, p.spec.lead_time_days, today))
            for p in priced], read)
    except capacity.NoCapacity as exc:  # a line without a working day
        raise _capacity_exhausted(priced[0], exc) from exc


def _book_planned(priced: list[CheckedUnit], plan: capacity.Plan,
                  book: Callable[[capacity.Plan], list[date]] = capacity.book_plan) -> list[date]:
    try:
        return book(plan)
    except capacity.NoCapacity as exc:
        unit = priced[plan.failed_unit] if plan.failed_unit is not None else priced[-1]
        raise _capacity_exhausted(unit, exc) from exc


def book_one_by_one(priced: list[CheckedUnit], plan: capacity.Plan) -> list[date]:
    """Book unit by unit as the bookings are now: another order took the room the plan
    counted on."""
    return _book_planned(priced, plan, capacity.book_units)


def _capacity_exhausted(p: CheckedUnit, exc: capacity.NoCapacity) -> CapacityExhausted:
    return CapacityExhausted([Problem(p.position, "routing", "capacity", (
        f"The workshop cannot take this unit within {capacity.HORIZON_DAYS} days "
        f"({exc}); please try again later."))])


def _new_reference() -> str:
    """A random reference, not looked up first: one in 887 million is taken by the millionth
    order, and then the unique constraint refuses the order's INSERT and `place_order` runs
    the transaction again with another (`_retryable`). Asking first was a query an order."""
    return "C2B-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def order_by_tracking_token(token: str) -> Order | None:
    """The order behind a tracking link, or None (also for malformed tokens)."""
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        return None
    return db.session.execute(
        select(Order).where(Order.tracking_token == token)).scalar_one_or_none()
