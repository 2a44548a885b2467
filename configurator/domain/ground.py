"""Ground a rule for one assignment of its options: what is left is true, false, or a
conjunction of linear inequalities over measurements. Same meaning as `expr.evaluate`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .expr import (Attr, Binary, BoolOp, Call, Const, ListLit, Name, Unary, compare, is_number,
                   truthy)


class GroundError(ValueError):
    """The rule is not linear in the measurements, or leaves a choice between them."""


@dataclass(frozen=True)
class Lin:
    """sum(coef * measurement) + const."""
    terms: tuple[tuple[str, Fraction], ...]
    const: Fraction

    def scaled(self, k: Fraction) -> "Lin":
        return Lin(tuple((n, c * k) for n, c in self.terms if c * k), self.const * k)


@dataclass(frozen=True)
class Atom:
    """terms + const >= 0 (or > 0 when strict)."""
    terms: tuple[tuple[str, Fraction], ...]
    const: Fraction
    strict: bool

    def negated(self) -> "Atom":
        return Atom(tuple((n, -c) for n, c in self.terms), -self.const, not self.strict)


@dataclass(frozen=True)
class All:
    items: frozenset


@dataclass(frozen=True)
class Any_:
    items: frozenset


def _lin(value) -> Lin:
    return value if isinstance(value, Lin) else Lin((), Fraction(value))


def _add(a, b, sign: int) -> Lin:
    a, b = _lin(a), _lin(b)
    terms = dict(a.terms)
    for name, coef in b.terms:
        terms[name] = terms.get(name, 0) + sign * coef
    return Lin(tuple(sorted((n, c) for n, c in terms.items() if c)), a.const + sign * b.const)


def c_and(items) -> Any:
    out = set()
    for item in items:
        if item is False:
            return False
        if item is True:
            continue
        out.update(item.items if isinstance(item, All) else (item,))
    if not out:
        return True
    return next(iter(out)) if len(out) == 1 else All(frozenset(out))


def c_or(items) -> Any:
    out = set()
    for item in items:
        if item is True:
            return True
        if item is False:
            continue
        out.update(item.items if isinstance(item, Any_) else (item,))
    if not out:
        return False
    return next(iter(out)) if len(out) == 1 else Any_(frozenset(out))


def c_not(item) -> Any:
    if isinstance(item, bool):
        return not item
    if isinstance(item, Atom):
        return item.negated()
    if isinstance(item, All):
        return c_or(c_not(i) for i in item.items)
    return c_and(c_not(i) for i in item.items)


def _is_cond(value) -> bool:
    return isinstance(value, (Atom, All, Any_))


def _truth(value) -> Any:
    if isinstance(value, Lin):
        raise GroundError("a measurement cannot be used as a condition on its own")
    return value if _is_cond(value) else truthy(value)


def _atom_compare(op: str, left, right) -> Any:
    diff = _add(left, right, -1)  # left - right
    if not diff.terms:
        return compare(op, diff.const, Fraction(0))
    ge = Atom(diff.terms, diff.const, False)
    gt = Atom(diff.terms, diff.const, True)
    table = {">=": ge, ">": gt, "<=": gt.negated(), "<": ge.negated()}
    if op in table:
        return table[op]
    equal = c_and([ge, gt.negated()])
    return equal if op == "==" else c_not(equal)


def ground(node, option_value: Callable[[str], Any],  # noqa: C901  (a branch per kind of node)
           option_attr: Callable[[str, str], Any], measurements: frozenset[str]) -> Any:
    """Evaluate with options known and measurements symbolic."""
    def go(n):
        kind = type(n)
        if kind is Const:
            return n.value
        if kind is Name:
            if n.id in measurements:
                return Lin(((n.id, Fraction(1)),), Fraction(0))
            return option_value(n.id)
        if kind is Attr:
            return option_attr(n.id, n.attr)
        if kind is ListLit:
            return tuple(go(i) for i in n.items)
        if kind is BoolOp:
            parts = [_truth(go(o)) for o in n.operands]
            return c_and(parts) if n.op == "and" else c_or(parts)
        if kind is Unary:
            value = go(n.operand)
            if n.op == "not":
                return c_not(_truth(value))
            if isinstance(value, Lin):
                return value.scaled(Fraction(-1))
            return -value if is_number(value) else None
        if kind is Binary:
            return _binary(n.op, go(n.left), go(n.right))
        if kind is Call:
            return _call(n, go)
        raise TypeError(f"unknown node {n!r}")
    return go(node)


def _binary(op: str, left, right) -> Any:  # noqa: C901  (a branch per operator)
    symbolic = isinstance(left, Lin) or isinstance(right, Lin)
    if _is_cond(left) or _is_cond(right):
        raise GroundError("a measurement condition cannot be compared or used in arithmetic")
    if not symbolic:
        from .expr import arithmetic

        return arithmetic(op, left, right) if op in "+-*/" else compare(op, left, right)
    other = right if isinstance(left, Lin) else left
    numeric = isinstance(other, Lin) or is_number(other)
    if op in ("+", "-"):
        return _add(left, right, 1 if op == "+" else -1) if numeric else None
    if op == "*":
        if isinstance(left, Lin) and isinstance(right, Lin):
            raise GroundError("multiplying two measurements is not linear")
        if not numeric:
            return None
        if isinstance(left, Lin):
            return left.scaled(Fraction(right))
        return right.scaled(Fraction(left))
    if op == "/":
        if isinstance(right, Lin):
            raise GroundError("dividing by a measurement is not linear")
        return left.scaled(1 / Fraction(right)) if is_number(right) and right != 0 else None
    if op in ("in", "notin"):
        if not isinstance(right, tuple):
            return op == "notin"
        found = c_or(_atom_compare("==", left, item) for item in right if is_number(item))
        return found if op == "in" else c_not(found)
    if not numeric:
        return op == "!="
    return _atom_compare(op, left, right)


def _call(node, go) -> Any:
    from .expr import call

    if node.fn == "if":
        test = _truth(go(node.args[0]))
        if isinstance(test, bool):
            return go(node.args[1] if test else node.args[2])
        a, b = go(node.args[1]), go(node.args[2])
        if not all(isinstance(x, bool) or _is_cond(x) for x in (a, b)):
            raise GroundError("if() on a measurement condition must choose between conditions, "
                              "not values")
        return c_or([c_and([test, a]), c_and([c_not(test), b])])
    args = [go(a) for a in node.args]
    if any(isinstance(a, Lin) or _is_cond(a) for a in args):
        raise GroundError(f"{node.fn}() of a measurement is not linear")
    return call(node.fn, args)


def conjunction(residual) -> bool | tuple[Atom, ...]:
    """True, False, or the atoms that must all hold; a remaining choice is an error."""
    if isinstance(residual, bool):
        return residual
    if residual is None or is_number(residual) or isinstance(residual, (str, tuple, Lin)):
        return truthy(residual) if not isinstance(residual, Lin) else _truth(residual)
    if isinstance(residual, Atom):
        return (residual,)
    if isinstance(residual, All) and all(isinstance(i, Atom) for i in residual.items):
        return tuple(sorted(residual.items, key=repr))
    raise GroundError("the rule leaves a choice between measurement conditions "
                      "(an 'or' of two measurement comparisons); split it into rules that "
                      "each must hold, or make the choice depend on an option")
