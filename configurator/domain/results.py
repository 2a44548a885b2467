"""What the engine answers: small frozen values, turned into JSON by `as_dict`."""
from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal


@dataclass(frozen=True)
class Violation:
    rule: str  # a spec rule id, or a built-in one: required, unknown, type, range, step, ...
    fields: tuple[str, ...]  # "options.fabric", "measurements.chest", "texts.monogram"
    message: str


@dataclass(frozen=True)
class Validation:
    violations: tuple[Violation, ...]

    @property
    def valid(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "violations": [
                {"rule": v.rule, "fields": list(v.fields), "message": v.message}
                for v in self.violations
            ],
        }


@dataclass(frozen=True)
class Reason:
    rule: str
    message: str


@dataclass(frozen=True)
class ChoiceState:
    available: bool
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class MeasurementRange:
    min: Decimal | None  # None/None: no value is possible with the other entries
    max: Decimal | None


@dataclass(frozen=True)
class Quote:
    """A price with its honest parts: materials and labour at cost, margin the rest."""
    currency: str
    total: Decimal
    base: Decimal
    options: Decimal
    surcharges: Decimal
    materials: Decimal
    labour: Decimal
    margin: Decimal
    lines: tuple[tuple[str, Decimal], ...] = ()  # (label, amount) as shown to the shopper
    complete: bool = True  # False: a price so far, measurements still missing

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}  # flat: no deep copy
        out["lines"] = [{"label": label, "amount": str(amount)} for label, amount in self.lines]
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in out.items()}


@dataclass(frozen=True)
class Propagation:
    options: dict[str, dict[str, ChoiceState]]
    active: dict[str, bool]  # option id -> applies under the current selections
    measurements: dict[str, MeasurementRange]
    price: Quote
    feasible: bool  # some valid design agrees with every selection and entry

    def as_dict(self) -> dict:
        return {
            "options": {
                oid: {
                    cid: {
                        "available": st.available,
                        "reasons": [{"rule": r.rule, "message": r.message} for r in st.reasons],
                    }
                    for cid, st in choices.items()
                }
                for oid, choices in self.options.items()
            },
            "active": dict(self.active),
            "measurements": {
                mid: {"min": _num(r.min), "max": _num(r.max)}
                for mid, r in self.measurements.items()
            },
            "price": self.price.as_dict(),
            "feasible": self.feasible,
        }


@dataclass(frozen=True)
class BillLine:
    material: str
    name: str
    unit: str
    quantity: Decimal
    unit_cost: Decimal
    note: str = ""


@dataclass(frozen=True)
class RoutingStep:
    station: str
    station_name: str
    operation: str
    minutes: Decimal


@dataclass(frozen=True)
class Costing:
    """What a complete design costs and takes: its quote, bill of materials and routing."""
    quote: Quote
    bill: tuple[BillLine, ...]
    routing: tuple[RoutingStep, ...]


def _num(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)
