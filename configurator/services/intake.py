"""A partner's form post read into order units, with every problem named by the partner's field.

One unit: `product`, `option.<id>`, `measure.<id>`, `text.<id>`, `label`.
Several: `units=<n>` and `unit-<k>.product`, `unit-<k>.option.<id>`, ... (k = 1..n);
`unit-<k>.product` falls back to the top-level `product`.
The customer: `customer_name`, `customer_email` (optional), `ship_to.line1`, `ship_to.line2`
(optional), `ship_to.postcode`, `ship_to.city`, `ship_to.country`; and `partner_reference`.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError

from ..models import Order, Partner
from ..specs_registry import catalog
from .orders import (CheckedUnit, CustomerDetails, OrderRejected, UnitRequest, check_design,
                     normal_email, place_order)
from .partners import KeyHolder

MAX_UNITS = 50
MAX_VALUE_LENGTH = 2000
DESIGN_PARTS = {"option": "options", "measure": "measurements", "text": "texts"}
PARTNER_PARTS = {v: k for k, v in DESIGN_PARTS.items()}
UNIT_FIELD = re.compile(r"^unit-(\d{1,4})\.(.+)$")
ADDRESS_FIELDS = (("ship_to.line1", True), ("ship_to.line2", False), ("ship_to.postcode", True),
                  ("ship_to.city", True), ("ship_to.country", True))
CUSTOMER_FIELDS = {"customer.name": "customer_name", "customer.email": "customer_email",
                   "customer.address": "ship_to.line1"}
ORDER_FIELDS = {"product", "units", "partner_reference", "customer_name", "customer_email",
                *(name for name, _ in ADDRESS_FIELDS)}


@dataclass(frozen=True)
class FieldProblem:
    field: str | None  # the partner's field name, e.g. "unit-2.measure.chest"
    rule: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class IntakeRejected(Exception):
    """The post cannot become an order; `problems` lists every reason."""

    def __init__(self, problems: list[FieldProblem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class Intake:
    customer: CustomerDetails
    units: list[UnitRequest | CheckedUnit]  # checked when the design is valid
    partner_reference: str | None
    prefixes: list[str] = field(default_factory=list)  # "" or "unit-<k>." per unit


def read_form(values: Mapping[str, list[str]], products: Mapping, fallback_email: str,
              files: tuple[str, ...] = ()) -> Intake:
    """Turn a form (name -> values, as posted) into a customer and units, or `IntakeRejected`."""
    problems = [FieldProblem(name, "unknown-field",
                             f"{name}: files are not read; send text fields.")
                for name in files]
    form: dict[str, str] = {}
    for name, posted in values.items():
        if not isinstance(name, str) or not name or not name.isprintable():
            problems.append(FieldProblem(None, "unknown-field", "A field has no usable name "
                                         "(empty, or with control characters)."))
            continue
        if len(posted) > 1:
            problems.append(FieldProblem(name, "duplicate", f"{name} is given {len(posted)} times; "
                                         "send it once."))
        form[name] = posted[0] if posted else ""
        if len(form[name]) > MAX_VALUE_LENGTH:
            problems.append(FieldProblem(name, "too-long", f"{name} is longer than "
                                         f"{MAX_VALUE_LENGTH} characters."))
    count, grouped = _unit_fields(form, problems)
    customer = _customer(form, fallback_email, problems)
    single = count == 1 and not grouped
    prefixes = [""] if single else [f"unit-{k}." for k in range(1, count + 1)]
    units = [_unit(k, prefix, grouped.get(k, {}) if prefix else _top_level(form), form, products,
                   problems) for k, prefix in enumerate(prefixes, start=1)]
    reference = form.get("partner_reference", "").strip()
    if len(reference) > 200 or not reference.isprintable():
        problems.append(FieldProblem("partner_reference", "length", "partner_reference is one "
                                     "line of 200 printable characters at most."))
    if problems:
        raise IntakeRejected(problems)
    return Intake(customer, units, reference or None, prefixes)


def submit(partner: Partner | KeyHolder, values: Mapping[str, list[str]],
           files: tuple[str, ...] = (),
           before_commit: Callable[[Order], None] | None = None) -> Order:
    """Read the post and place the order for `partner`, or `IntakeRejected` with nothing stored.
    `before_commit`: see `place_order` (the partner API stores its Idempotency-Key with it)."""
    intake = read_form(values, catalog().products, partner.contact_email, files)
    try:
        return place_order(intake.customer, intake.units, source="partner",
                           partner_id=partner.id, partner_reference=intake.partner_reference,
                           before_commit=before_commit)
    except OrderRejected as exc:
        raise IntakeRejected([
            FieldProblem(_order_field(intake.prefixes, p.unit, p.field), p.rule, p.message)
            for p in exc.problems]) from exc


def _unit_fields(form: Mapping[str, str], problems: list) -> tuple[int, dict[int, dict]]:
    """How many units, and the `unit-<k>.` fields grouped by k."""
    grouped: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        match = UNIT_FIELD.match(name)
        if match:
            grouped.setdefault(int(match.group(1)), {})[match.group(2)] = value
        elif name not in ORDER_FIELDS and name.partition(".")[0] not in DESIGN_PARTS \
                and name != "label":
            problems.append(FieldProblem(name, "unknown-field", f"{name} is not a field we read."))
    raw = form.get("units", "").strip()
    count = max(grouped, default=1)
    if raw:
        if not raw.isdecimal() or not 1 <= int(raw) <= MAX_UNITS:
            problems.append(FieldProblem("units", "range",
                                         f"units must be a whole number from 1 to {MAX_UNITS}."))
            return 1, {}
        count = int(raw)
    if count > MAX_UNITS:
        problems.append(FieldProblem("units", "range", f"At most {MAX_UNITS} units per order."))
        return 1, {}
    for k in sorted(grouped):
        if not 1 <= k <= count:
            problems.append(FieldProblem(f"unit-{k}", "unknown-field",
                                         f"unit-{k} is outside units=1..{count}."))
    if grouped or count > 1:
        problems.extend(FieldProblem(name, "unknown-field", f"{name} must be given per unit as "
                                     f"unit-<k>.{name} when the order has several units.")
                        for name in form if name.partition(".")[0] in DESIGN_PARTS
                        or name == "label")
    return count, grouped


def _top_level(form: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in form.items()
            if name.partition(".")[0] in DESIGN_PARTS or name in ("product", "label")}


def _customer(form: Mapping[str, str], fallback_email: str, problems: list) -> CustomerDetails:
    name = form.get("customer_name", "").strip()
    if not name:
        problems.append(FieldProblem("customer_name", "required", "customer_name is required."))
    email = form.get("customer_email", "").strip() or fallback_email
    try:
        email = normal_email(email)
    except EmailNotValidError as exc:
        problems.append(FieldProblem("customer_email", "email", f"customer_email: {exc}"))
    lines = []
    for field_name, required in ADDRESS_FIELDS:
        value = form.get(field_name, "").strip()
        if required and not value:
            problems.append(FieldProblem(field_name, "required", f"{field_name} is required."))
        if value:
            lines.append(value)
    return CustomerDetails(name=name, email=email, address="\n".join(lines))


def _unit(position: int, prefix: str, fields: Mapping[str, str], form: Mapping[str, str],
          products: Mapping, problems: list) -> UnitRequest | CheckedUnit:
    product_id = (fields.get("product") or form.get("product", "")).strip()
    spec = products.get(product_id)
    if spec is None:
        known = ", ".join(sorted(products))
        rule, message = (("unknown", f"No product {product_id[:64]!r}; we make: {known}.")
                         if product_id else
                         ("required", f"{prefix}product is required (one of: {known})."))
        problems.append(FieldProblem(prefix + "product", rule, message))
    design: dict[str, dict] = {"options": {}, "measurements": {}, "texts": {}}
    mine: list[FieldProblem] = []
    for name, value in fields.items():
        part, _, item = name.partition(".")
        if part in DESIGN_PARTS and item:
            parsed = _value(part, prefix + name, value, mine)
            if parsed is not None:
                design[DESIGN_PARTS[part]][item] = parsed
        elif name not in ("product", "label"):
            mine.append(FieldProblem(prefix + name, "unknown-field",
                                     f"{prefix}{name} is not a field we read."))
    request = UnitRequest(product_id=product_id, design=design, label=fields.get("label", ""))
    checked = None
    if spec is not None:
        found, checked = _checked(position, prefix, spec, request, {p.field for p in mine})
        mine.extend(found)
    problems.extend(mine)
    return checked or request


def _checked(position: int, prefix: str, spec, request: UnitRequest,
             reported: set) -> tuple[list[FieldProblem], CheckedUnit | None]:
    """The engine's verdict, minus fields whose value we could not even read; a valid design
    comes back checked, so the order does not check it again."""
    try:
        return [], check_design(position, spec, request.design, request.label)
    except OrderRejected as exc:
        named = [(partner_field(prefix, p.field), p) for p in exc.problems]
        return [FieldProblem(name, p.rule, p.message) for name, p in named
                if name not in reported], None


def _value(part: str, name: str, value: str, problems: list):
    if part != "measure":
        return value.strip() if part == "option" else value
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or abs(number) > 10**9:
        problems.append(FieldProblem(name, "type", f"{name} must be a number, e.g. 102.5."))
        return None
    as_float = float(number)
    return int(number) if number == number.to_integral_value() else (
        as_float if math.isfinite(as_float) else None)


def partner_field(prefix: str, field_name: str | None) -> str:
    """An engine field ("measurements.chest") as the partner named it ("unit-2.measure.chest")."""
    part, _, item = (field_name or "").partition(".")
    if part in PARTNER_PARTS and item:
        return f"{prefix}{PARTNER_PARTS[part]}.{item}"
    return prefix + ("label" if field_name == "label" else "product")


def _order_field(prefixes: list[str], unit: int | None, field_name: str) -> str:
    """A problem of the order service, named by the partner's field."""
    if unit is None or not 1 <= unit <= len(prefixes):
        return CUSTOMER_FIELDS.get(field_name, field_name)
    return partner_field(prefixes[unit - 1], field_name)
