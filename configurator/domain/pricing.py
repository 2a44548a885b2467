"""Price, bill of materials and routing of a design, from the spec's formulas.

The price is base + choice deltas + surcharges; materials and labour are what the unit really
consumes (bill of materials at unit cost, routing minutes at each station's rate), and the
margin is the rest, so the parts always sum to the total.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from .expr import is_number
from .model import ProductSpec, VolumeTier
from .results import BillLine, Costing, Quote, RoutingStep
from .validation import design_env, measurement_problem

CENT = Decimal("0.01")
QUANTITY = Decimal("0.001")
MINUTE = Decimal("0.1")


def _dec(value: Any, places: Decimal) -> Decimal:
    if not is_number(value):
        return Decimal(0)
    # ints and Fractions both have a numerator and a denominator
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places, ROUND_HALF_UP)


def _parts(design: Any) -> tuple[dict, dict]:
    design = design if isinstance(design, dict) else {}
    options = design.get("options") if isinstance(design.get("options"), dict) else {}
    values = design.get("measurements") if isinstance(design.get("measurements"), dict) else {}
    numbers = {}
    for k, v in values.items():
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) and _finite(v):
            numbers[k] = Fraction(v) if type(v) is int else Fraction(str(v))
    return options, numbers


def _finite(value: int | float | Decimal) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int) or math.isfinite(value)


def _env(spec: ProductSpec, design: Any):
    options, numbers = _parts(design)
    # only entries that can be measurements count (a price "so far" ignores 1e400 cm)
    numbers = {k: v for k, v in numbers.items() if spec.measurement(k) is not None
               and measurement_problem(spec.measurement(k), v) is None}
    chosen = {k: v for k, v in options.items()
              if isinstance(v, str) and spec.option(k) and spec.option(k).choice(v)}
    return chosen, numbers, design_env(spec, chosen, numbers)


def _holds(expr, env) -> bool:
    return expr is None or bool(expr.evaluate(env))


def bill_of_materials(spec: ProductSpec, design: Any) -> tuple[BillLine, ...]:
    """What one unit consumes, one line per material (quantities summed, notes kept)."""
    chosen, _, env = _env(spec, design)
    return _bill(spec, chosen, env)


def _bill(spec: ProductSpec, chosen: Mapping[str, str], env) -> tuple[BillLine, ...]:
    merged: dict[str, list] = {}
    for usage in spec.usage:
        if not _holds(usage.when, env):
            continue
        material_id = usage.material
        if usage.material_of is not None:
            choice_id = chosen.get(usage.material_of)
            choice = spec.option(usage.material_of).choice(choice_id) if choice_id else None
            material_id = choice.material if choice else None
        if material_id is None:
            continue
        quantity = _dec(usage.quantity.evaluate(env), QUANTITY)
        line = merged.setdefault(material_id, [Decimal(0), []])
        line[0] += quantity
        if usage.note:
            line[1].append(usage.note)
    out = []
    for material_id, (quantity, notes) in merged.items():
        m = spec.material(material_id)
        out.append(BillLine(m.id, m.name, m.unit, quantity, m.unit_cost, "; ".join(notes)))
    return tuple(out)


def routing(spec: ProductSpec, design: Any) -> tuple[RoutingStep, ...]:
    """The operations of this design, station by station, with standard minutes."""
    return _routing(spec, _env(spec, design)[2])


def _routing(spec: ProductSpec, env) -> tuple[RoutingStep, ...]:
    steps = []
    for op in spec.operations:
        if _holds(op.when, env):
            station = spec.line.station(op.station)
            steps.append(RoutingStep(station.id, station.name, op.name,
                                     _dec(op.minutes.evaluate(env), MINUTE)))
    return tuple(steps)


def _selling(spec: ProductSpec, chosen: Mapping[str, str], numbers: Mapping[str, Fraction],
             env, partial: bool) -> tuple[Decimal, Decimal, list]:
    lines = [("Base price", spec.base_price)]
    options_total = Decimal(0)
    for option in spec.options:
        choice = option.choice(chosen[option.id]) if option.id in chosen else None
        if choice is not None and choice.price:
            options_total += choice.price
            lines.append((f"{option.label}: {choice.label}", choice.price))
    surcharges = Decimal(0)
    for s in spec.surcharges:
        names = s.amount.names() | (s.when.names() if s.when else frozenset())
        if partial and not all(n in chosen or n in numbers for n in names):
            continue  # not known yet
        if _holds(s.when, env):
            amount = _dec(s.amount.evaluate(env), CENT)
            if amount:
                surcharges += amount
                lines.append((s.label, amount))
    return options_total, surcharges, lines


def quote(spec: ProductSpec, design: Any) -> Quote:
    """The price of a complete design with its honest parts."""
    return costing(spec, design).quote


def costing(spec: ProductSpec, design: Any) -> Costing:
    """The quote, bill of materials and routing of a complete design, worked out together
    (orders store all three; each alone would build the same expression environment)."""
    chosen, numbers, env = _env(spec, design)
    return _costing(spec, chosen, numbers, env)


def _costing(spec: ProductSpec, chosen: Mapping[str, str], numbers: Mapping[str, Fraction],
             env) -> Costing:
    bill, steps = _bill(spec, chosen, env), _routing(spec, env)
    options_total, surcharges, lines = _selling(spec, chosen, numbers, env, partial=False)
    total = (spec.base_price + options_total + surcharges).quantize(CENT, ROUND_HALF_UP)
    materials = sum((b.quantity * b.unit_cost for b in bill), Decimal(0))
    labour = sum((s.minutes * spec.line.station(s.station).labour_rate for s in steps),
                 Decimal(0))
    materials = materials.quantize(CENT, ROUND_HALF_UP)
    labour = labour.quantize(CENT, ROUND_HALF_UP)
    price = Quote(spec.currency, total, spec.base_price, options_total.quantize(CENT),
                  surcharges.quantize(CENT), materials, labour, total - materials - labour,
                  tuple(lines), True)
    return Costing(price, bill, steps)


def quote_partial(spec: ProductSpec, design: Any) -> Quote:
    """The price so far: base, chosen deltas and the surcharges already known; the cost parts
    only once every measurement is in."""
    chosen, numbers, env = _env(spec, design)
    if all(m.id in numbers for m in spec.measurements) and all(
            o.id in chosen or not o.required or o.when is not None for o in spec.options):
        return _costing(spec, chosen, numbers, env).quote
    options_total, surcharges, lines = _selling(spec, chosen, numbers, env, partial=True)
    total = (spec.base_price + options_total + surcharges).quantize(CENT, ROUND_HALF_UP)
    zero = Decimal("0.00")
    return Quote(spec.currency, total, spec.base_price, options_total.quantize(CENT),
                 surcharges.quantize(CENT), zero, zero, zero, tuple(lines), False)


def volume_tier(spec: ProductSpec, units: int) -> VolumeTier | None:
    """The best volume tier (the largest discount) `units` of one product reach."""
    reached = [t for t in spec.volume_tiers if units >= t.min_units]
    return max(reached, key=lambda t: t.percent_off) if reached else None


def tier_discount(price: Decimal, tier: VolumeTier | None) -> Decimal:
    """What `tier` takes off one unit's price, rounded per unit: the group's running total and
    the order it places both charge this."""
    if tier is None:
        return Decimal(0)
    return (price * tier.percent_off / 100).quantize(CENT, ROUND_HALF_UP)
