"""A product specification as loaded from `specs/`: small frozen values, no behaviour."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .expr import Expr


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    price: Decimal = Decimal(0)
    help: str = ""
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    material: str | None = None  # material id this choice consumes (see Usage.material_of)
    colour: str | None = None  # "#rrggbb" for swatches and the preview


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    choices: tuple[Choice, ...]
    help: str = ""
    required: bool = True
    default: str | None = None
    display: str = "radio"  # radio | swatch | select
    when: Expr | None = None  # applicability; the option is "not applicable" when false
    group: str = ""  # heading the shop shows it under
    # choices by id, made once: the engine, pricing and the pages look choices up constantly
    _by_id: dict[str, Choice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {c.id: c for c in reversed(self.choices)})

    def choice(self, choice_id: str) -> Choice | None:
        try:
            return self._by_id.get(choice_id)
        except TypeError:  # an unhashable value posted as a choice is no choice
            return None


@dataclass(frozen=True)
class Measurement:
    id: str
    label: str
    unit: str
    min: Decimal
    max: Decimal
    step: Decimal
    help: str = ""
    group: str = ""
    typical: Decimal | None = None  # a typical adult value, used as a placeholder
    # min, max and step as the rule language's exact numbers, worked out once at load time,
    # and as whole numbers of 1/scale (scale, min, max, step) for a quick check of an entry
    limits: tuple[Fraction, Fraction, Fraction] = field(init=False, repr=False, compare=False)
    grid: tuple[int, int, int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        limits = tuple(Fraction(str(x)) for x in (self.min, self.max, self.step))
        scale = math.lcm(*(x.denominator for x in limits))
        object.__setattr__(self, "limits", limits)
        object.__setattr__(self, "grid", (scale, *(int(x * scale) for x in limits)))


@dataclass(frozen=True)
class TextInput:
    id: str
    label: str
    max_length: int
    allowed: str  # a regular-expression character class body, e.g. "A-Z ."
    help: str = ""
    required: bool = False
    when: Expr | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    expr: Expr  # the whole rule as one boolean expression: true when satisfied
    source: str = ""  # the rule as written, for error messages


@dataclass(frozen=True)
class Surcharge:
    id: str
    label: str
    amount: Expr
    when: Expr | None = None


@dataclass(frozen=True)
class VolumeTier:
    min_units: int
    percent_off: Decimal


@dataclass(frozen=True)
class MaterialSpec:
    id: str
    name: str
    unit: str
    unit_cost: Decimal
    stock: Decimal  # initial stock; the database holds the live level


@dataclass(frozen=True)
class Usage:
    quantity: Expr
    material: str | None = None  # a fixed material id ...
    material_of: str | None = None  # ... or the material of the chosen choice of this option
    when: Expr | None = None
    note: str = ""  # cut data shown on the work order


@dataclass(frozen=True)
class Operation:
    station: str
    name: str
    minutes: Expr
    when: Expr | None = None


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    minutes_per_day: int
    labour_rate: Decimal  # cost per standard minute


@dataclass(frozen=True)
class LineSpec:
    id: str
    name: str
    stations: tuple[Station, ...]
    working_days: tuple[int, ...]  # 0 = Monday
    holidays: tuple[str, ...] = ()
    version: str = ""
    source_text: str = field(default="", repr=False)

    def station(self, station_id: str) -> Station | None:
        return next((s for s in self.stations if s.id == station_id), None)


@dataclass(frozen=True, eq=False)
class ProductSpec:
    id: str
    name: str
    description: str
    currency: str
    base_price: Decimal
    lead_time_days: int
    options: tuple[Option, ...]
    measurements: tuple[Measurement, ...]
    texts: tuple[TextInput, ...]
    rules: tuple[Rule, ...]
    surcharges: tuple[Surcharge, ...]
    volume_tiers: tuple[VolumeTier, ...]
    materials: tuple[MaterialSpec, ...]
    usage: tuple[Usage, ...]
    operations: tuple[Operation, ...]
    line: LineSpec
    version: str  # content hash of the product file and the line file
    path: str = ""
    preview: str = ""  # which SVG preview the shop draws
    image: str = ""
    source_text: str = field(default="", repr=False)

    def option(self, option_id: str) -> Option | None:
        return self._index()["options"].get(option_id)

    def measurement(self, measurement_id: str) -> Measurement | None:
        return self._index()["measurements"].get(measurement_id)

    def text(self, text_id: str) -> TextInput | None:
        return self._index()["texts"].get(text_id)

    def material(self, material_id: str) -> MaterialSpec | None:
        return self._index()["materials"].get(material_id)

    def rule(self, rule_id: str) -> Rule | None:
        return self._index()["rules"].get(rule_id)

    def _index(self) -> dict[str, dict]:
        index = self.__dict__.get("_index_cache")
        if index is None:
            index = {
                "options": {o.id: o for o in self.options},
                "measurements": {m.id: m for m in self.measurements},
                "texts": {t.id: t for t in self.texts},
                "materials": {m.id: m for m in self.materials},
                "rules": {r.id: r for r in self.rules},
            }
            object.__setattr__(self, "_index_cache", index)
        return index
