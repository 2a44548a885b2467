"""What is wrong with a spec, file by file: `Problems` collects each with its place, the cross
checks look across a built product (ids, names in expressions, links to materials and stations),
and `check_solvable` compiles the rules and makes sure every option can still be chosen."""
from __future__ import annotations

from .expr import Expr
from .model import Measurement, Option, ProductSpec, TextInput


class SpecError(ValueError):
    """One or more problems in spec files; `problems` holds one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Problems:
    """Collects problems for one file, each with its place."""

    def __init__(self, path: str):
        self.path = path
        self.items: list[str] = []

    def add(self, place: str, message: str) -> None:
        self.items.append(f"{self.path}: {place}: {message}" if place
                          else f"{self.path}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)


def check_unique(ids: list[str], place: str, problems: Problems) -> None:
    seen = set()
    for i, item in enumerate(ids):
        if item in seen:
            problems.add(f"{place}[{i}]", f"duplicate id {item!r}")
        seen.add(item)


def cross_check(spec: ProductSpec, problems: Problems) -> None:
    options = {o.id: o for o in spec.options}
    measurements = {m.id for m in spec.measurements}
    names = [o.id for o in spec.options] + [m.id for m in spec.measurements] + [
        t.id for t in spec.texts]
    check_unique(names, "options/measurements/texts", problems)
    for place, items in (("rules", spec.rules), ("materials", spec.materials),
                         ("surcharges", spec.surcharges)):
        check_unique([x.id for x in items], place, problems)
    for i, o in enumerate(spec.options):
        _check_option(spec, o, f"options[{i}] (id {o.id!r})", problems)
    for i, m in enumerate(spec.measurements):
        _check_measurement(m, f"measurements[{i}] (id {m.id!r})", problems)
    for i, t in enumerate(spec.texts):
        _check_text(t, f"texts[{i}] (id {t.id!r})", problems)
    for place, expr, allowed in _expressions(spec):
        _check_names(expr, place, options, measurements if allowed == "all" else set(), problems)
    _check_links(spec, options, problems)


def _check_option(spec: ProductSpec, o: Option, place: str, problems: Problems) -> None:
    check_unique([c.id for c in o.choices], place + ".choices", problems)
    if o.default is not None and o.choice(o.default) is None:
        problems.add(place + ".default", f"{o.default!r} is not one of its choices")
    if o.when is not None and o.id in o.when.names():
        problems.add(place + ".when", "an option's condition cannot depend on the option itself")


def _check_measurement(m: Measurement, place: str, problems: Problems) -> None:
    if m.min > m.max:
        problems.add(place, f"min {m.min} is above max {m.max}")
    if m.typical is not None and not m.min <= m.typical <= m.max:
        problems.add(place + ".typical", f"{m.typical} is outside {m.min}..{m.max}")


def _check_text(t: TextInput, place: str, problems: Problems) -> None:
    import re

    try:
        re.compile(f"[{t.allowed}]")
    except re.error as exc:
        problems.add(place + ".allowed", f"not a character class: {exc}")


def _expressions(spec: ProductSpec):
    """(place, expression, which names it may use) for every expression in the spec."""
    for i, o in enumerate(spec.options):
        if o.when is not None:
            yield f"options[{i}] (id {o.id!r}).when", o.when, "options"
    for i, t in enumerate(spec.texts):
        if t.when is not None:
            yield f"texts[{i}] (id {t.id!r}).when", t.when, "options"
    for i, r in enumerate(spec.rules):
        yield f"rules[{i}] (id {r.id!r})", r.expr, "all"
    for group in ("surcharges", "usage", "operations"):
        for i, item in enumerate(getattr(spec, group)):
            for name in ("amount", "quantity", "minutes", "when"):
                expr = getattr(item, name, None)
                if isinstance(expr, Expr):
                    yield f"{group}[{i}].{name}", expr, "all"


def _check_names(expr: Expr, place: str, options: dict, measurements: set,
                 problems: Problems) -> None:
    for name in sorted(expr.names()):
        if name not in options and name not in measurements:
            what = "option or measurement" if measurements else "option"
            problems.add(place, f"unknown {what} {name!r} in {expr.source!r}")
    for name, attr in sorted(expr.attributes()):
        option = options.get(name)
        if option is None:
            if name in measurements:
                problems.add(place, f"{name!r} is a measurement and has no attribute {attr!r}")
            continue
        if not any(attr in c.attributes for c in option.choices):
            problems.add(place, f"no choice of option {name!r} has attribute {attr!r} "
                                f"(in {expr.source!r})")


def _check_links(spec: ProductSpec, options: dict, problems: Problems) -> None:
    materials = {m.id for m in spec.materials}
    for i, o in enumerate(spec.options):
        for j, c in enumerate(o.choices):
            if c.material is not None and c.material not in materials:
                problems.add(f"options[{i}].choices[{j}] (id {c.id!r}).material",
                             f"unknown material {c.material!r}")
    for i, u in enumerate(spec.usage):
        if u.material is not None and u.material not in materials:
            problems.add(f"usage[{i}].material", f"unknown material {u.material!r}")
        if u.material_of is not None:
            option = options.get(u.material_of)
            if option is None:
                problems.add(f"usage[{i}].material_of", f"unknown option {u.material_of!r}")
            elif not any(c.material for c in option.choices):
                problems.add(f"usage[{i}].material_of",
                             f"no choice of option {u.material_of!r} names a material")
    stations = {s.id for s in spec.line.stations}
    for i, op in enumerate(spec.operations):
        if op.station not in stations:
            problems.add(f"operations[{i}].station",
                         f"unknown station {op.station!r} (the line's stations: "
                         f"{', '.join(sorted(stations))})")


def check_solvable(spec: ProductSpec, problems: Problems) -> None:
    """Compile the rules, then make sure the product and each option can be satisfied."""
    from .compile import CompileError, compiled
    from .engine import propagate

    try:
        compiled(spec)
    except CompileError as exc:
        problems.add(exc.place, str(exc))
        return
    result = propagate(spec, {})
    if not result.feasible:
        problems.add("rules", "no valid design exists at all: the rules contradict each other")
        return
    for i, o in enumerate(spec.options):
        states = result.options[o.id]
        if result.active[o.id] and not any(s.available for s in states.values()):
            problems.add(f"options[{i}] (id {o.id!r})", "no choice of this option is possible "
                         "in any valid design")
