"""The engine is exact: against brute force on many random small specs, and greedy completion
never dead-ends on the shipped specs."""
from __future__ import annotations

import random
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configurator.domain.engine import propagate
from configurator.domain.loader import SpecError, load_product_text
from configurator.domain.validation import applies, validate
from tests.engine_reference import expected, grid, valid_designs

LINE = """
[line]
id = "l"
name = "L"
working_days = ["mon"]
[[stations]]
id = "s"
name = "S"
minutes_per_day = 100
labour_rate = "0.5"
"""

OPTION_RULES = [
    "forbid = \"{a} == '{av}' and {b} == '{bv}'\"",
    "when = \"{a} == '{av}'\"\nrequire = \"{b} in ['{bv}', '{bw}']\"",
    "forbid = \"{a}.heavy and {b} != '{bv}'\"",
    "require = \"{a} != '{av}' or {b} == '{bv}'\"",
]
NUMERIC_RULES = [
    "require = \"{m} - {n} >= {k}\"",
    "when = \"not {a}.heavy\"\nrequire = \"{m} - {n} >= {k}\"",
    "forbid = \"{a} == '{av}' and {m} > {k}\"",
    "require = \"{m} + {n} <= {k2}\"",
    "when = \"{a} == '{av}'\"\nrequire = \"2 * {m} - {n} >= {k}\"",
    "require = \"{m} * 0.5 + {n} >= {k}\"",
]


@st.composite
def small_specs(draw):
    rnd = random.Random(draw(st.integers(0, 2**32)))
    n_options = rnd.randint(1, 3)
    parts = ['[product]\nid = "p"\nname = "P"\ncurrency = "EUR"\nbase_price = "10"\n'
             'lead_time_days = 1']
    options = []
    for i in range(n_options):
        oid = f"o{i}"
        choices = [f"c{j}" for j in range(rnd.randint(2, 3))]
        options.append((oid, choices))
        required = str(rnd.random() < 0.8).lower()
        head = f'[[options]]\nid = "{oid}"\nlabel = "O{i}"\nrequired = {required}'
        if i > 0 and rnd.random() < 0.3:
            head += f"\nwhen = \"o0 == '{options[0][1][0]}'\""
        parts.append(head)
        for c in choices:
            parts.append(f'  [[options.choices]]\n  id = "{c}"\n  label = "{c}"\n'
                         f'  attributes = {{ heavy = {str(rnd.random() < 0.5).lower()} }}')
    measurements = []
    for i in range(rnd.randint(0, 2)):
        step = rnd.choice([1, 0.5])
        low = rnd.randint(0, 4)
        high = low + step * rnd.randint(2, 5)
        measurements.append(f"m{i}")
        parts.append(f'[[measurements]]\nid = "m{i}"\nlabel = "M{i}"\nunit = "cm"\n'
                     f"min = {low}\nmax = {high}\nstep = {step}")
    templates = OPTION_RULES + (NUMERIC_RULES if len(measurements) == 2 else [])
    for r in range(rnd.randint(1, 5)):
        a, b = rnd.choice(options), rnd.choice(options)
        m, n = (measurements + measurements)[:2] if measurements else ("", "")
        body = rnd.choice(templates).format(
            a=a[0], av=rnd.choice(a[1]), b=b[0], bv=rnd.choice(b[1]), bw=rnd.choice(b[1]),
            m=m, n=n, k=rnd.randint(-3, 3), k2=rnd.randint(3, 12))
        parts.append(f'[[rules]]\nid = "r{r}"\nmessage = "Rule {r}."\n{body}')
    text = "\n".join(parts) + "\n"
    try:
        spec = load_product_text(text, LINE, "random.toml")
    except SpecError:
        spec = None  # contradictory or unsatisfiable specs are rejected by the loader; fine
    return spec, rnd.randint(0, 2**32)


def random_partial(spec, seed):
    rnd = random.Random(seed)
    selections = {o.id: rnd.choice(o.choices).id for o in spec.options if rnd.random() < 0.5}
    entries = {m.id: rnd.choice(grid(m)) for m in spec.measurements if rnd.random() < 0.5}
    return selections, entries


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs())
def test_propagate_matches_brute_force(case):
    spec, seed = case
    if spec is None:
        return
    designs = valid_designs(spec)
    for k in range(3):
        selections, entries = random_partial(spec, seed + k)
        options, ranges = expected(spec, designs, selections, entries)
        got = propagate(spec, {"options": selections, "measurements": entries})
        for oid, choices in options.items():
            for cid, available in choices.items():
                assert got.options[oid][cid].available == available, (oid, cid, selections, entries)
                if not available:
                    assert got.options[oid][cid].reasons, "an unavailable choice says why"
        for mid, (low, high) in ranges.items():
            r = got.measurements[mid]
            assert (r.min, r.max) == (low, high), (mid, selections, entries)


def test_loader_rejects_a_spec_with_no_valid_design():
    text = ('[product]\nid = "p"\nname = "P"\ncurrency = "EUR"\nbase_price = "1"\n'
            'lead_time_days = 1\n'
            '[[measurements]]\nid = "a"\nlabel = "A"\nunit = "cm"\nmin = 1\nmax = 5\nstep = 1\n'
            '[[measurements]]\nid = "b"\nlabel = "B"\nunit = "cm"\nmin = 1\nmax = 5\nstep = 1\n'
            '[[rules]]\nid = "x"\nmessage = "x"\nrequire = "a - b >= 3"\n'
            '[[rules]]\nid = "y"\nmessage = "y"\nrequire = "b - a >= 3"\n')
    with pytest.raises(SpecError, match="no valid design"):
        load_product_text(text, LINE, "contradiction.toml")


def _complete_greedily(spec, rnd: random.Random) -> dict:
    """Pick only what propagate shows as possible; exactness means this never dead-ends."""
    design = {"options": {}, "measurements": {}, "texts": {}}
    order = [("o", o) for o in spec.options] + [("m", m) for m in spec.measurements]
    rnd.shuffle(order)
    for kind, item in order:
        state = propagate(spec, design)
        assert state.feasible, f"dead end before {item.id}: {design}"
        if kind == "o":
            if not state.active[item.id]:
                continue
            available = [c for c, s in state.options[item.id].items() if s.available]
            assert available, f"no choice left for {item.id} in {design}"
            design["options"][item.id] = rnd.choice(available)
        else:
            r = state.measurements[item.id]
            steps = int((r.max - r.min) / item.step)
            design["measurements"][item.id] = r.min + item.step * rnd.randint(0, steps)
    # options whose condition became false are left out
    final = propagate(spec, design)
    design["options"] = {k: v for k, v in design["options"].items() if final.active[k]}
    for t in spec.texts:  # texts only have their own limits: any allowed letters do
        if t.required and applies(spec, t.when, design["options"]):
            letters = string.ascii_uppercase + string.ascii_lowercase + string.digits
            letter = next(ch for ch in letters if re.fullmatch(f"[{t.allowed}]", ch))
            design["texts"][t.id] = letter * min(2, t.max_length)
    return design


@pytest.mark.parametrize("product", ["suit", "shirt", "washing-machine"])
def test_greedy_completion_of_shipped_specs_is_always_valid(product):
    from configurator.config import ROOT
    from configurator.domain.loader import load_specs

    spec = load_specs(ROOT / "specs").products.get(product)
    if spec is None:
        pytest.skip(f"{product} is not shipped yet")
    for seed in range(25):
        design = _complete_greedily(spec, random.Random(seed))
        result = validate(spec, design)
        assert result.valid, (design, result.violations)


@pytest.mark.parametrize("product", ["suit", "shirt", "washing-machine"])
def test_unavailable_choices_of_shipped_specs_really_fail(product):
    """Choosing what propagate calls unavailable leaves no valid design."""
    from configurator.config import ROOT
    from configurator.domain.loader import load_specs

    spec = load_specs(ROOT / "specs").products.get(product)
    if spec is None:
        pytest.skip(f"{product} is not shipped yet")
    rnd = random.Random(7)
    for _ in range(20):
        design = {"options": {o.id: rnd.choice(o.choices).id for o in spec.options
                              if rnd.random() < 0.3}, "measurements": {}}
        state = propagate(spec, design)
        for oid, choices in state.options.items():
            if spec.option(oid).when is not None:
                # such a selection holds only while the option applies (brute force checks it)
                continue
            for cid, st_ in choices.items():
                if not st_.available:
                    trial = {"options": {**design["options"], oid: cid}, "measurements": {}}
                    assert not propagate(spec, trial).feasible, (oid, cid, design)
