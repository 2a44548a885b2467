"""Validation: every problem with a complete design, each naming its field and the rule.

`validate` is what the server checks before anything is stored, whatever the client did; the
helpers here (`applies`, `design_env`, `measurement_problem`) are shared with `propagate`
(engine.py) and pricing.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .compile import compiled
from .expr import Env
from .model import ProductSpec
from .results import Validation, Violation


def as_dict(value: Any) -> dict:
    """A part of a design (options, measurements, texts) as posted: {} unless it is an object."""
    return value if isinstance(value, dict) else {}


def to_fraction(value: Any) -> Fraction | None:
    """An entered measurement as an exact number; None for anything that is not a finite one."""
    if type(value) is int:  # the usual entry; the same Fraction as from its digits, faster
        return Fraction(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    return Fraction(str(value))


def _fmt(value: Fraction | Decimal | int) -> str:
    """A number as people write it: 60, 60.5 (never 6E+1)."""
    f = Fraction(value)
    if abs(f) >= 10**12:  # someone typed 1e400: say so briefly, beyond Decimal's precision
        return format(Decimal(f.numerator // f.denominator), ".3E")
    return format(plain_decimal(Decimal(f.numerator) / Decimal(f.denominator)), "f")


def plain_decimal(d: Decimal) -> Decimal:
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def applies(spec: ProductSpec, when, options: Mapping[str, Any]) -> bool:
    return when is None or bool(when.evaluate(design_env(spec, options, {})))


def design_env(spec: ProductSpec, options: Mapping[str, Any], values: Mapping[str, Any]) -> Env:
    attributes = compiled(spec).attributes

    def value(name: str) -> Any:
        if name in values:
            return values[name]
        return options.get(name)

    def attr(name: str, key: str) -> Any:
        choice = options.get(name)
        return None if choice is None else attributes.get((name, choice), {}).get(key)
    return Env(value, attr)


def validate(spec: ProductSpec, design: Any) -> Validation:
    """Every problem with a design: structure, types, ranges, applicability and every rule."""
    violations: list[Violation] = []
    if not isinstance(design, dict):
        return Validation((Violation("type", ("design",), "The design must be a JSON object "
                                     "with options, measurements and texts."),))
    for key in design:
        if key not in ("options", "measurements", "texts"):
            violations.append(Violation("unknown", (str(key),),
                                        f"Unknown part {key!r} of a design."))
    for key in ("options", "measurements", "texts"):
        if key in design and not isinstance(design[key], dict):
            violations.append(Violation("type", (key,), f"{key} must be an object."))
    options = {k: v for k, v in as_dict(design.get("options")).items()}
    good_options = _check_options(spec, options, violations)
    good_values = _check_measurements(spec, as_dict(design.get("measurements")), violations)
    _check_texts(spec, as_dict(design.get("texts")), good_options, violations)
    _check_rules(spec, good_options, good_values, violations)
    return Validation(tuple(violations))


def _check_options(spec, options, violations) -> dict[str, str]:
    good: dict[str, str] = {}
    for oid, value in options.items():
        option = spec.option(oid)
        if option is None:
            violations.append(Violation("unknown", (f"options.{oid}",),
                                        f"There is no option {oid!r}."))
        elif not isinstance(value, str) or option.choice(value) is None:
            labels = ", ".join(c.label for c in option.choices)
            violations.append(Violation("choice", (f"options.{oid}",),
                                        f"{option.label}: {value!r} is not a choice "
                                        f"(choose one of: {labels})."))
        else:
            good[oid] = value
    dropped = True
    while dropped:  # applicability can chain: drop until what is left all applies
        dropped = [o for o in spec.options if o.id in good and not applies(spec, o.when, good)]
        for option in dropped:
            violations.append(Violation("not-applicable", (f"options.{option.id}",),
                                        f"{option.label} does not apply to this design."))
            del good[option.id]
    for option in spec.options:
        if option.required and option.id not in options and applies(spec, option.when, good):
            violations.append(Violation("required", (f"options.{option.id}",),
                                        f"Please choose {option.label.lower()}."))
    return good


def _check_measurements(spec, values, violations) -> dict[str, Fraction]:
    good: dict[str, Fraction] = {}
    for mid in values:
        if spec.measurement(mid) is None:
            violations.append(Violation("unknown", (f"measurements.{mid}",),
                                        f"There is no measurement {mid!r}."))
    for m in spec.measurements:
        field = f"measurements.{m.id}"
        if m.id not in values or values[m.id] is None:
            violations.append(Violation("required", (field,),
                                        f"Please enter your {m.label.lower()} in {m.unit}."))
            continue
        value = to_fraction(values[m.id])
        problem = measurement_problem(m, value)
        if problem:
            violations.append(Violation(problem[0], (field,), problem[1]))
        else:
            good[m.id] = value
    return good


def measurement_problem(m, value: Fraction | None) -> tuple[str, str] | None:
    """(rule, message) when a value cannot be a measurement `m`, else None."""
    if value is None:
        return "type", f"{m.label} must be a number in {m.unit}."
    scale, low, high, step = m.grid  # the usual case, an entry on the grid, in whole numbers
    if value.numerator * scale % value.denominator == 0:
        x = value.numerator * scale // value.denominator
        if low <= x <= high and (x - low) % step == 0:
            return None
    low, high, step = m.limits
    if not low <= value <= high:
        hint = ""
        if m.unit == "cm" and value < low and low <= value * Fraction(254, 100) <= high:
            in_cm = _fmt(round(value * Fraction(254, 100)))
            hint = f" It looks like inches: {_fmt(value)} in is about {in_cm} cm."
        return "range", (f"{m.label} must be between {_fmt(low)} and {_fmt(high)} {m.unit}; "
                         f"you entered {_fmt(value)}.{hint}")
    if (value - low) % step:
        return "step", (f"{m.label} is measured in steps of {_fmt(step)} {m.unit}; "
                        f"you entered {_fmt(value)}.")
    return None


def _check_texts(spec, texts, options, violations) -> None:
    for tid in texts:
        if spec.text(tid) is None:
            violations.append(Violation("unknown", (f"texts.{tid}",), f"There is no text {tid!r}."))
    for t in spec.texts:
        field, value = f"texts.{t.id}", texts.get(t.id)
        if value is not None and not isinstance(value, str):
            violations.append(Violation("type", (field,), f"{t.label} must be text."))
            continue
        active = applies(spec, t.when, options)
        if not active:
            if value:
                violations.append(Violation("not-applicable", (field,),
                                            f"{t.label} does not apply to this design."))
            continue
        if not value:
            if t.required:
                violations.append(Violation("required", (field,),
                                            f"Please enter {t.label.lower()}."))
            continue
        if len(value) > t.max_length:
            violations.append(Violation("max-length", (field,),
                                        f"{t.label} can have at most {t.max_length} characters; "
                                        f"it has {len(value)}."))
        bad = sorted(set(re.sub(f"[{t.allowed}]", "", value)))
        if bad:
            violations.append(Violation("characters", (field,),
                                        f"{t.label} cannot contain "
                                        f"{' '.join(repr(b) for b in bad)}."))


def _check_rules(spec, options, values, violations) -> None:
    known = set(options) | set(values)
    env = design_env(spec, options, values)
    for rule in spec.rules:
        names = rule.expr.names()
        # A rule on a missing or invalid field is skipped: that field already has its violation.
        # (An optional or inapplicable option that is absent is simply null.)
        if any(spec.measurement(n) is not None or spec.option(n).required
               and applies(spec, spec.option(n).when, options) for n in names if n not in known):
            continue
        if not rule.expr.evaluate(env):
            fields = tuple(sorted(("options." if spec.option(n) else "measurements.") + n
                                  for n in names))
            violations.append(Violation(rule.id, fields, rule.message))
