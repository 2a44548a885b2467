"""`engine.feasible` answers exactly what `propagate(...).feasible` answers, from one pass."""
from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from configurator.config import ROOT
from configurator.domain.engine import feasible, propagate
from configurator.domain.loader import load_specs
from tests.test_engine_properties import random_partial, small_specs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs())
def test_feasible_agrees_with_propagate_on_random_specs(case):
    spec, seed = case
    if spec is None:
        return
    for k in range(4):
        selections, entries = random_partial(spec, seed + k)
        design = {"options": selections, "measurements": entries}
        assert feasible(spec, design) == propagate(spec, design).feasible, design


@pytest.mark.parametrize("product", ["suit", "shirt", "washing-machine"])
def test_feasible_agrees_with_propagate_on_shipped_specs_and_sold_out_stock(product):
    from tests.conftest import complete_design

    spec = load_specs(ROOT / "specs").products[product]
    rnd = random.Random(11)
    materials = [m.id for m in spec.materials]
    for trial in range(60):
        design = complete_design(spec) if trial % 3 == 0 else {
            "options": {o.id: rnd.choice(o.choices).id for o in spec.options
                        if rnd.random() < 0.6},
            "measurements": {}, "texts": {}}
        if trial % 3 == 1:  # a complete design with some choices changed: often invalid
            design = complete_design(spec)
            for o in rnd.sample(spec.options, 2):
                design["options"][o.id] = rnd.choice(o.choices).id
        stock = {m: Decimal(rnd.choice([0, 0, 5])) for m in rnd.sample(materials, 3)}
        for levels in (None, stock):
            assert feasible(spec, design, levels) == propagate(spec, design, levels).feasible, (
                design, levels)


@pytest.mark.parametrize("product", ["suit", "shirt", "washing-machine"])
def test_reasons_read_late_are_the_reasons_read_at_once(product):
    """An excluded choice's reasons are worked out when first read: reading them after many
    other propagations of the same spec (shared caches filled, other selections) gives what
    reading them at once gives, and a read-only value that compares by what it says."""
    spec = load_specs(ROOT / "specs").products[product]
    rnd = random.Random(5)
    designs = [{"options": {o.id: rnd.choice(o.choices).id for o in spec.options
                            if rnd.random() < 0.5}, "measurements": {}, "texts": {}}
               for _ in range(30)]
    late = [propagate(spec, design) for design in designs]
    excluded = 0
    for design, kept in zip(designs, late):
        at_once = propagate(spec, design)
        for oid, choices in at_once.options.items():
            for cid, state in choices.items():
                if not state.available:
                    excluded += 1
                    assert state.reasons and state.reasons == kept.options[oid][cid].reasons
                assert state == kept.options[oid][cid]
        assert at_once.as_dict() == kept.as_dict()
    assert excluded > 20  # the designs exclude choices: the comparison compared something
    with pytest.raises(AttributeError):
        late[0].options[spec.options[0].id][spec.options[0].choices[0].id].available = False
