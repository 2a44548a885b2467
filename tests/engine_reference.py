"""A brute-force reference for the engine: enumerate every complete design, keep the valid
ones (by `validate`, the rule language's plain meaning), and read the answers off them."""
from __future__ import annotations

import itertools
from decimal import Decimal

from configurator.domain.validation import applies, validate


def grid(m) -> list[Decimal]:
    values, x = [], m.min
    while x <= m.max:
        values.append(x)
        x += m.step
    return values


def valid_designs(spec) -> list[dict]:
    option_values = [[c.id for c in o.choices] + [None] for o in spec.options]
    measurement_values = [grid(m) for m in spec.measurements]
    found = []
    for opts in itertools.product(*option_values):
        options = {o.id: v for o, v in zip(spec.options, opts) if v is not None}
        for values in itertools.product(*measurement_values):
            design = {"options": options,
                      "measurements": {m.id: v for m, v in zip(spec.measurements, values)}}
            if validate(spec, design).valid:
                found.append(design)
    return found


def normalized(spec, selections: dict) -> dict:
    """Selections of options whose condition is already false are dropped (as the engine does)."""
    return {k: v for k, v in selections.items()
            if spec.option(k).when is None or not spec.option(k).when.names() <= selections.keys()
            or applies(spec, spec.option(k).when, selections)}


def expected(spec, designs: list[dict], selections: dict, entries: dict) -> tuple[dict, dict]:
    selections = normalized(spec, selections)

    def agrees(d, skip_option=None, skip_measure=None) -> bool:
        # a selection of a conditional option holds only while the option applies
        return all(d["options"].get(k) in (v, None if spec.option(k).when else v)
                   for k, v in selections.items() if k != skip_option) and \
            all(d["measurements"][k] == v for k, v in entries.items() if k != skip_measure)
    options = {}
    for o in spec.options:
        fits = [d for d in designs if agrees(d, skip_option=o.id)]
        options[o.id] = {c.id: any(d["options"].get(o.id) == c.id for d in fits) for c in o.choices}
    ranges = {}
    for m in spec.measurements:
        seen = [d["measurements"][m.id] for d in designs if agrees(d, skip_measure=m.id)]
        ranges[m.id] = (min(seen), max(seen)) if seen else (None, None)
    return options, ranges
