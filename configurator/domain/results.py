"""What the engine answers: small frozen values, turned into JSON by `as_dict`."""
from __future__ import annotations

from collections.abc import Callable
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


class ChoiceState:
    """Whether a choice can be made, and the reasons when it cannot.

    The reasons may be given as `explain`, a function that works them out when they are first
    read: most propagations (a default giving way, an option dropped as not applying) are
    steps on the way to the one whose reasons the shopper sees, and finding which rules
    exclude each choice was about a fifth of a live update. Read-only, like the other values.
    """
    __slots__ = ("available", "_reasons", "_explain")

    def __init__(self, available: bool, reasons: tuple[Reason, ...] = (),
                 explain: Callable[[], tuple[Reason, ...]] | None = None):
        object.__setattr__(self, "available", available)
        object.__setattr__(self, "_reasons", reasons)
        object.__setattr__(self, "_explain", explain)

    @property
    def reasons(self) -> tuple[Reason, ...]:
        explain = self._explain  # read once: another thread may be done with it meanwhile
        if explain is None:
            return self._reasons
        reasons = explain()  # two threads may both work them out: the same answer
        object.__setattr__(self, "_reasons", reasons)
        object.__setattr__(self, "_explain", None)
        return reasons

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"ChoiceState is read-only: cannot set {name!r}")

    def __eq__(self, other) -> bool:
        if not isinstance(other, ChoiceState):
            return NotImplemented
        return (self.available, self.reasons) == (other.available, other.reasons)

    def __hash__(self) -> int:
        return hash((self.available, self.reasons))

    def __repr__(self) -> str:
        return f"ChoiceState(available={self.available!r}, reasons={self.reasons!r})"


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

    def as_dict(self, offered: Propagation | None = None) -> dict:
        """As JSON; `offered`: another propagation whose choices to give instead (the live
        page shows the choices as offered with the picked defaults set aside)."""
        return {
            "options": {
                oid: {
                    cid: {
                        "available": st.available,
                        "reasons": [{"rule": r.rule, "message": r.message} for r in st.reasons],
                    }
                    for cid, st in choices.items()
                }
                for oid, choices in (offered or self).options.items()
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
