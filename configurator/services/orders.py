"""Placing an order: check everything again, reserve stock, book capacity, store snapshots.

The shop, the partners' intake and the demo data all come through `place_order`; nothing is
written unless the whole order can be made.
"""
from __future__ import annotations

import functools
import logging
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..domain import costing, validate
from ..domain.model import ProductSpec
from ..extensions import db, run_core
from ..models import Order, SpecSource, Unit, UnitEvent, WorkOrder
from ..models._types import utcnow
from ..specs_registry import catalog, remember_spec_version
from . import batch, capacity, stock

log = logging.getLogger(__name__)

MAX_UNITS = 50  # per order; bigger batches go through a planner
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out on the phone
CENT = Decimal("0.01")
STORE_ATTEMPTS = 5  # a transaction PostgreSQL aborted to break a deadlock is run again
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
REFERENCE_CONSTRAINT = "uq_order_reference"


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    email: str
    address: str


@dataclass(frozen=True)
class UnitRequest:
    product_id: str
    design: dict
    label: str = ""


@dataclass(frozen=True)
class Problem:
    unit: int | None  # 1-based position in the order; None for the order itself
    field: str  # "customer.email", "options.fabric", "measurements.chest", "units" ...
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"unit {self.unit}: " if self.unit is not None else ""
        return f"{where}{self.field}: {self.message}"


class OrderRejected(Exception):
    """The order cannot be made as asked; `problems` says what to change, field by field."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "the order was rejected")


class OutOfStock(OrderRejected):
    """A material ran out between designing and ordering."""


class CapacityExhausted(OrderRejected):
    """The line has no room within the booking horizon."""


@dataclass
class CheckedUnit:
    """One unit after checking (`check_design`): its spec, design and the snapshots to store.
    `place_order` takes it instead of a UnitRequest from a caller that checked the design
    already (the partner intake does, to name each problem by the partner's own field)."""
    position: int
    request: UnitRequest
    spec: ProductSpec
    design: dict
    quote: dict
    price: Decimal
    bill: list[dict] = field(default_factory=list)
    routing: list[dict] = field(default_factory=list)


def place_order(customer: CustomerDetails, units: Sequence[UnitRequest | CheckedUnit], *,
                source: str = "shop", partner_id: int | None = None,
                partner_reference: str | None = None, today: date | None = None,
                before_commit: Callable[[Order], None] | None = None) -> Order:
    """Check and store an order in one transaction, then hand its work orders to the renderer.
    `before_commit(order)` runs last in that transaction (once per try), with the order and
    its units written: what it writes commits with the order or not at all."""
    customer = _clean_customer(customer)
    priced = _check_units(units)
    today = today or date.today()
    for attempt in range(1, STORE_ATTEMPTS + 1):
        written: list = []  # the order and its units, once inserted
        try:
            order = _store(customer, priced, source, partner_id, partner_reference, today,
                           written)
            if before_commit is not None:
                before_commit(order)
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


# -- checking -------------------------------------------------------------------------------

def _clean_customer(customer: CustomerDetails) -> CustomerDetails:
    problems = []
    name = _text(customer.name)
    address = _text(customer.address, multiline=True)
    email = _text(customer.email)
    if not name:
        problems.append(Problem(None, "customer.name", "required", "Please enter your name."))
    elif len(name) > 200:
        problems.append(Problem(None, "customer.name", "length",
                                "The name is too long: 200 characters at most."))
    try:
        email = normal_email(email)
    except EmailNotValidError as exc:
        problems.append(Problem(None, "customer.email", "email",
                                f"Please check the email address: {exc}"))
    if not address:
        problems.append(Problem(None, "customer.address", "required",
                                "Please enter the shipping address."))
    elif len(address) > 1000:
        problems.append(Problem(None, "customer.address", "length",
                                "The address is too long: 1000 characters at most."))
    if problems:
        raise OrderRejected(problems)
    return CustomerDetails(name=name, email=email, address=address)


@functools.lru_cache(maxsize=1024)
def normal_email(email: str) -> str:
    """The address as we store it, or EmailNotValidError saying what is wrong (no DNS asked).
    Remembered: a partner's post and the order it places check the same address twice, and
    the same customers order again."""
    return validate_email(email, check_deliverability=False).normalized


def _text(value: Any, multiline: bool = False) -> str:
    if not isinstance(value, str):
        return ""
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    text = "\n".join(line for line in lines if line) if multiline else " ".join(lines)
    return text.replace("\x00", "").strip()


def _check_units(units: Sequence[UnitRequest | CheckedUnit]) -> list[CheckedUnit]:
    if not units:
        raise OrderRejected([Problem(None, "units", "required", "The order has no units.")])
    if len(units) > MAX_UNITS:
        raise OrderRejected([Problem(None, "units", "too-many", (
            f"An order can hold {MAX_UNITS} units at most; split it into several orders."))])
    problems: list[Problem] = []
    priced = []
    for position, request in enumerate(units, start=1):
        try:
            priced.append(_check_unit(position, request))
        except OrderRejected as exc:
            problems.extend(exc.problems)
    if not problems:
        problems = _check_currency(priced)
    if problems:
        raise OrderRejected(problems)
    _apply_volume_tiers(priced)
    return priced


def _check_unit(position: int, request: UnitRequest | CheckedUnit) -> CheckedUnit:
    if isinstance(request, CheckedUnit):  # the design is checked: the label is not yet
        label = _clean_label(position, request.request.label)
        return replace(request, position=position, request=replace(request.request, label=label))
    spec = catalog().products.get(request.product_id) if isinstance(
        request.product_id, str) else None
    if spec is None:
        raise OrderRejected([Problem(position, "product", "unknown", (
            f"There is no product {str(request.product_id)[:64]!r}; "
            "choose one from the catalog."))])
    label = _clean_label(position, request.label)
    return check_design(position, spec, request.design, label)


def _clean_label(position: int, label: Any) -> str:
    label = _text(label)
    if len(label) > 200:
        raise OrderRejected([Problem(position, "label", "length",
                                     "The label is too long: 200 characters at most.")])
    return label


def check_design(position: int, spec: ProductSpec, design: Any, label: str = "") -> CheckedUnit:
    """Validate one design against `spec` (any stored version) and work out its snapshots;
    raises OrderRejected naming each field. Remakes use it with the original unit's spec."""
    design = normalise_design(design)
    result = validate(spec, design)
    if not result.valid:
        raise OrderRejected([
            Problem(position, v.fields[0] if v.fields else "design", v.rule, v.message)
            for v in result.violations])
    sheet = costing(spec, design)
    return CheckedUnit(
        position=position, request=UnitRequest(spec.id, design, label), spec=spec,
        design=design, quote=sheet.quote.as_dict(), price=sheet.quote.total,
        bill=[_jsonable(line) for line in sheet.bill],
        routing=[_jsonable(step) for step in sheet.routing])


def normalise_design(design: Any) -> dict:
    """The three sections of a design as plain dicts (anything else in it is dropped)."""
    design = design if isinstance(design, Mapping) else {}
    return {section: dict(design[section]) if isinstance(design.get(section), Mapping) else {}
            for section in ("options", "measurements", "texts")}


def _jsonable(value: Any) -> dict:
    """A bill line or routing step as stored (its fields are flat: no deep copy needed)."""
    return {f.name: (str(v) if isinstance(v := getattr(value, f.name), Decimal) else v)
            for f in fields(value)}


def _check_currency(priced: list[CheckedUnit]) -> list[Problem]:
    currencies = {p.spec.currency for p in priced}
    if len(currencies) <= 1:
        return []
    return [Problem(None, "units", "currency", (
        f"These products are priced in different currencies ({', '.join(sorted(currencies))}); "
        "order them separately."))]


def _apply_volume_tiers(priced: list[CheckedUnit]) -> None:
    """Group orders: each product's best tier for its number of units, off every such unit."""
    counts: dict[str, int] = {}
    for p in priced:
        counts[p.spec.id] = counts.get(p.spec.id, 0) + 1
    for p in priced:
        tiers = [t for t in p.spec.volume_tiers if counts[p.spec.id] >= t.min_units]
        if not tiers or "discount" in p.quote:
            continue
        percent = max(t.percent_off for t in tiers)
        discount = (p.price * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        p.price -= discount
        p.quote = {**p.quote, "discount": str(discount), "percent_off": str(percent),
                   "total_after_discount": str(p.price)}


# -- storing --------------------------------------------------------------------------------

def _store(customer: CustomerDetails, priced: list[CheckedUnit], source: str,
           partner_id: int | None, partner_reference: str | None, today: date,
           written: list) -> Order:
    """Write the order, then take the locks: stock and capacity rows are shared by every order,
    so they are locked last, in a fixed order, and held only for a few statements until the
    commit. Everything else (reads, the order's own rows) happens before."""
    _ensure_stock(priced)
    plan = _plan_capacity(priced, today)
    if plan.failure is not None:
        _reserve_stock(priced, ensure=False)  # a material running out is the news to give first
        raise _capacity_exhausted(priced[plan.failed_unit], plan.failure)
    _remember_spec_versions(priced)
    order = _loaded(Order, run_core(_INSERT_ORDER, {
        "reference": _new_reference(), "source": source, "customer_name": customer.name,
        "email": customer.email, "address": customer.address,
        "currency": priced[0].spec.currency,
        "total": sum((p.price for p in priced), Decimal(0)), "promised_date": max(plan.dates),
        "partner_id": partner_id, "partner_reference": partner_reference}).one()._mapping)
    written.append(order)
    written.extend(_insert_units(order, priced, plan.dates))  # before the locks
    _reserve_stock(priced, ensure=False)
    promised = _book_planned(priced, plan)
    if promised != plan.dates:  # another order took the room the plan counted on
        for unit, unit_date in zip(order.units, promised):
            unit.promised_date = unit_date
        order.promised_date = max(promised)
    return order


def _insert_units(order: Order, priced: list[CheckedUnit], dates: list[date]) -> list[Unit]:
    """The order's units, their pending work orders and first events, in one statement each
    rather than through the session's unit of work, whose cost grows with every unit (ten
    units: about a quarter less CPU for the order); `order.units` is set."""
    units = [_loaded(Unit, row._mapping) for row in run_core(
        _INSERT_UNITS, [_unit_row(order.id, p, day) for p, day in zip(priced, dates)])]
    codes = {unit.id: _unit_code(unit.id) for unit in units}
    batch.set_values(Unit.__table__.c.code, codes)
    run_core(_INSERT_WORK_ORDERS, [{"unit_id": unit.id, "status": "pending"}
                                                     for unit in units])
    run_core(_INSERT_EVENTS, [
        {"unit_id": unit.id, "from_status": None, "to_status": "queued", "actor": "system",
         "note": "order placed"} for unit in units])
    for unit in units:
        set_committed_value(unit, "code", codes[unit.id])
    set_committed_value(order, "units", units)
    return units


# Built once: Core INSERT ... RETURNING, not the ORM's unit of work (its flush of one order
# and its units cost more CPU than every other statement of the order together).
_INSERT_ORDER = insert(Order.__table__).returning(*Order.__table__.c)
_INSERT_UNITS = insert(Unit.__table__).returning(*Unit.__table__.c, sort_by_parameter_order=True)
_INSERT_WORK_ORDERS = insert(WorkOrder.__table__)
_INSERT_EVENTS = insert(UnitEvent.__table__)


def _loaded(model: type, row: Mapping):
    """An object for a row just inserted, in the session as if loaded (no SQL)."""
    obj = model(**row)
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


def _unit_row(order_id: int, p: CheckedUnit, promised: date) -> dict:
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
    unit.code = _unit_code(unit.id)
    return unit


def _unit_code(unit_id: int) -> str:
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


def _remember_spec_versions(priced: list[CheckedUnit]) -> None:
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


def _ensure_stock(priced: list[CheckedUnit]) -> None:
    for spec in {p.spec.id: p.spec for p in priced}.values():
        stock.ensure_stock_once(spec)


def _reserve_stock(priced: list[CheckedUnit], ensure: bool = True) -> None:
    if ensure:
        _ensure_stock(priced)
    needs: dict[tuple[str, str], Decimal] = {}
    for p in priced:
        for line in p.bill:
            key = (p.spec.id, line["material"])
            needs[key] = needs.get(key, Decimal(0)) + Decimal(line["quantity"])
    try:
        stock.reserve_many(needs)
    except stock.InsufficientStock as exc:
        raise OutOfStock(_out_of_stock_problems(priced, exc)) from exc


def _out_of_stock_problems(priced: list[CheckedUnit], exc: stock.InsufficientStock) -> list[Problem]:
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
    return _book_planned(priced, _plan_capacity(priced, today))


def _plan_capacity(priced: list[CheckedUnit], today: date) -> capacity.Plan:
    try:
        return capacity.plan_units([
            (p.spec.line, p.routing,
             capacity.earliest_start(p.spec.line, p.spec.lead_time_days, today))
            for p in priced])
    except capacity.NoCapacity as exc:  # a line without a working day
        raise _capacity_exhausted(priced[0], exc) from exc


def _book_planned(priced: list[CheckedUnit], plan: capacity.Plan) -> list[date]:
    try:
        return capacity.book_plan(plan)
    except capacity.NoCapacity as exc:
        unit = priced[plan.failed_unit] if plan.failed_unit is not None else priced[-1]
        raise _capacity_exhausted(unit, exc) from exc


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
