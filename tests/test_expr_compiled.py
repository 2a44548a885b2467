"""An expression compiled once to closures (`Expr.evaluate`) answers exactly what the reference
`evaluate` of its tree answers: on random trees and environments, and on every expression of
the shipped specs."""
from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configurator.config import ROOT
from configurator.domain.expr import (Attr, Binary, BoolOp, Call, Const, Env, ListLit, Name,
                                      Unary, compile_tree, evaluate)
from configurator.domain.loader import load_specs

NAMES = ["a", "b", "c"]
VALUES = st.one_of(st.none(), st.booleans(), st.sampled_from(["x", "y", "", "1"]),
                   st.integers(-3, 3), st.fractions(min_value=-5, max_value=5, max_denominator=4))
LEAVES = st.one_of(
    st.builds(Const, VALUES), st.builds(Name, st.sampled_from(NAMES)),
    st.builds(Attr, st.sampled_from(NAMES), st.sampled_from(["weight", "heavy"])))


def _branches(children):
    return st.one_of(
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=",
                                           "in", "notin"]), children, children),
        st.builds(BoolOp, st.sampled_from(["and", "or"]),
                  st.lists(children, min_size=1, max_size=3).map(tuple)),
        st.builds(Unary, st.sampled_from(["-", "not"]), children),
        st.builds(Call, st.just("if"), st.tuples(children, children, children)),
        st.builds(Call, st.sampled_from(["min", "max", "round"]),
                  st.lists(children, min_size=1, max_size=2).map(tuple)),
        st.builds(ListLit, st.lists(children, max_size=3).map(tuple)))


TREES = st.recursive(LEAVES, _branches, max_leaves=8)


def _outcome(fn):
    try:
        value = fn()
    except Exception as exc:  # both must fail alike, if at all
        return ("raised", type(exc))
    return ("value", type(value), value)


@settings(max_examples=2000, deadline=None)
@given(TREES, st.dictionaries(st.sampled_from(NAMES), VALUES),
       st.dictionaries(st.tuples(st.sampled_from(NAMES), st.sampled_from(["weight", "heavy"])),
                       VALUES))
def test_compiled_trees_answer_like_the_reference(tree, values, attributes):
    env = Env(values.get, lambda name, attr: attributes.get((name, attr)))
    assert _outcome(lambda: compile_tree(tree)(env)) == _outcome(lambda: evaluate(tree, env))


@pytest.mark.parametrize("product", ["suit", "shirt", "washing-machine"])
def test_every_expression_of_the_shipped_specs_answers_like_the_reference(product):
    spec = load_specs(ROOT / "specs").products[product]
    expressions = [r.expr for r in spec.rules] + [o.when for o in spec.options if o.when]
    expressions += [t.when for t in spec.texts if t.when]
    expressions += [u.quantity for u in spec.usage] + [u.when for u in spec.usage if u.when]
    expressions += [o.minutes for o in spec.operations]
    expressions += [o.when for o in spec.operations if o.when]
    expressions += [s.amount for s in spec.surcharges]
    expressions += [s.when for s in spec.surcharges if s.when]
    rnd = random.Random(3)
    for _ in range(200):
        options = {o.id: rnd.choice([None, *[c.id for c in o.choices]]) for o in spec.options}
        numbers = {m.id: rnd.choice([None, Fraction(rnd.randint(0, 300)),
                                     Fraction(rnd.randint(0, 600), 2)])
                   for m in spec.measurements}
        values = {**options, **numbers}
        attributes = {(o.id, key): value for o in spec.options for c in o.choices
                      if options.get(o.id) == c.id for key, value in c.attributes.items()}
        env = Env(values.get, lambda name, attr: attributes.get((name, attr)))
        for expr in expressions:
            assert _outcome(lambda: expr.evaluate(env)) == _outcome(
                lambda: evaluate(expr.tree, env)), expr.source


@pytest.mark.parametrize("op", ["==", "!=", "in", "notin"])
@pytest.mark.parametrize("right", [Const("x"), Const(1), Const(None), ListLit(()),
                                   ListLit((Const("x"), Const("y"))),
                                   ListLit((Const("x"), Const(1))), ListLit((Name("b"),))])
def test_comparisons_with_text_constants_answer_like_the_reference(op, right):
    tree = Binary(op, Name("a"), right)
    for value in [None, True, False, "x", "y", "", 1, Fraction(1), Fraction(1, 2), ("x",)]:
        env = Env({"a": value, "b": "x"}.get, lambda name, attr: None)
        assert _outcome(lambda: compile_tree(tree)(env)) == _outcome(
            lambda: evaluate(tree, env)), (op, right, value)
