"""Checking an order before anything is stored: the customer's details, each unit's design
against its spec (with the snapshots to store: quote, bill of materials, routing), the order as
a whole (size, currency, volume tiers). Every problem names its field and the rule.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..domain import costing, validate
from ..domain.model import ProductSpec
from ..domain.pricing import tier_discount, volume_tier
from ..specs_registry import catalog

MAX_UNITS = 50  # per order; bigger batches go through a planner


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


def clean_customer(customer: CustomerDetails) -> CustomerDetails:
    problems = []
    name = clean_text(customer.name)
    address = clean_text(customer.address, multiline=True)
    email = clean_text(customer.email)
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


def clean_text(value: Any, multiline: bool = False) -> str:
    if not isinstance(value, str):
        return ""
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    text = "\n".join(line for line in lines if line) if multiline else " ".join(lines)
    return text.replace("\x00", "").strip()


def check_units(units: Sequence[UnitRequest | CheckedUnit]) -> list[CheckedUnit]:
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
    label = clean_text(label)
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
    return {name: (str(v) if isinstance(v := getattr(value, name), Decimal) else v)
            for name in _field_names(type(value))}


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    """A dataclass's field names, looked up once: `fields()` builds its answer at every call,
    and an order's bill and routing ask about twenty times."""
    return tuple(f.name for f in fields(kind))


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
        tier = volume_tier(p.spec, counts[p.spec.id])
        if tier is None or "discount" in p.quote:
            continue
        discount = tier_discount(p.price, tier)
        p.price -= discount
        p.quote = {**p.quote, "discount": str(discount), "percent_off": str(tier.percent_off),
                   "total_after_discount": str(p.price)}
