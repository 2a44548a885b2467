"""The rule language: a small expression language parsed once into a tree (by `parser`), never
`eval`-ed.

Names are option ids (their chosen choice id), `option.attribute`, and measurement ids.
`evaluate` gives the reference meaning on a complete design; the engine compiles the same
trees into constraints (see `ground`), and the property tests hold the two to each other.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any


class ExprError(ValueError):
    """A malformed expression; `position` is the character offset in the source."""

    def __init__(self, message: str, source: str, position: int | None = None):
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(f"{message}{where} in {source!r}")
        self.position = position


# ---------------------------------------------------------------- tree

@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Attr:
    id: str
    attr: str


@dataclass(frozen=True)
class ListLit:
    items: tuple


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Any


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / == != < <= > >= in notin
    left: Any
    right: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    operands: tuple


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple


@dataclass(frozen=True)
class Expr:
    """A parsed expression and its source text."""
    source: str
    tree: Any
    # walked once here: the engine and pricing ask for them on every call
    _names: frozenset[str] = field(init=False, repr=False, compare=False)
    _attributes: frozenset[tuple[str, str]] = field(init=False, repr=False, compare=False)

    _run: Callable[["Env"], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_names", frozenset(_walk_names(self.tree)))
        object.__setattr__(self, "_attributes", frozenset(_walk_attrs(self.tree)))
        object.__setattr__(self, "_run", compile_tree(self.tree))

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"

    def names(self) -> frozenset[str]:
        """Every option or measurement id the expression refers to."""
        return self._names

    def attributes(self) -> frozenset[tuple[str, str]]:
        return self._attributes

    def evaluate(self, env: "Env") -> Any:
        """`evaluate(self.tree, env)`, by the closures compiled once from the tree."""
        return self._run(env)


def _children(node) -> tuple:
    if isinstance(node, (Unary,)):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, BoolOp):
        return node.operands
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ListLit):
        return node.items
    return ()


def _walk_names(node):
    if isinstance(node, (Name, Attr)):
        yield node.id
    for child in _children(node):
        yield from _walk_names(child)


def _walk_attrs(node):
    if isinstance(node, Attr):
        yield (node.id, node.attr)
    for child in _children(node):
        yield from _walk_attrs(child)


# ---------------------------------------------------------------- evaluation

@dataclass(frozen=True)
class Env:
    """How names resolve: `value(name)` and `attribute(name, attr)`."""
    value: Callable[[str], Any]
    attribute: Callable[[str, str], Any]


def is_number(value: Any) -> bool:
    kind = type(value)
    if kind is int or kind is Fraction:  # the usual answers first: isinstance on Fraction
        return True                      # goes through the ABC machinery (numbers.Rational)
    if kind is str or value is None:
        return False
    return isinstance(value, (int, Fraction)) and not isinstance(value, bool)


def truthy(value: Any) -> bool:
    return bool(value) if value is not None else False


def compare(op: str, left: Any, right: Any) -> bool:
    """Comparisons: anything with null is false except `!=`; mismatched types never order."""
    if op == "==":
        return (left == right and type(left) is type(right)
                or (is_number(left) and is_number(right) and left == right))
    if op == "!=":
        return not compare("==", left, right)
    if op in ("in", "notin"):
        found = isinstance(right, tuple) and any(compare("==", left, item) for item in right)
        return found if op == "in" else not found
    if is_number(left) and is_number(right) or isinstance(left, str) and isinstance(right, str):
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        raise KeyError(op)
    return False


def arithmetic(op: str, left: Any, right: Any) -> Any:
    if not (is_number(left) and is_number(right)):
        return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    return None if right == 0 else Fraction(left) / right


def call(fn: str, args: list) -> Any:
    if fn == "if":
        return args[1] if truthy(args[0]) else args[2]
    if fn == "round":
        if not is_number(args[0]):
            return None
        digits = int(args[1]) if len(args) > 1 and is_number(args[1]) else 0
        return Fraction(round(Fraction(args[0]), digits))
    if any(not is_number(a) for a in args):
        return None
    return min(args) if fn == "min" else max(args)


def evaluate(node, env: Env) -> Any:  # noqa: C901  (one branch per kind of node)
    """The reference meaning of an expression on a complete design."""
    kind = type(node)
    if kind is Const:
        return node.value
    if kind is Name:
        return env.value(node.id)
    if kind is Attr:
        return env.attribute(node.id, node.attr)
    if kind is BoolOp:
        if node.op == "and":
            return all(truthy(evaluate(o, env)) for o in node.operands)
        return any(truthy(evaluate(o, env)) for o in node.operands)
    if kind is Unary:
        value = evaluate(node.operand, env)
        if node.op == "not":
            return not truthy(value)
        return -value if is_number(value) else None
    if kind is Binary:
        left, right = evaluate(node.left, env), evaluate(node.right, env)
        if node.op in ("+", "-", "*", "/"):
            return arithmetic(node.op, left, right)
        return compare(node.op, left, right)
    if kind is Call:
        if node.fn == "if":  # lazy, like the language reads
            chosen = node.args[1] if truthy(evaluate(node.args[0], env)) else node.args[2]
            return evaluate(chosen, env)
        return call(node.fn, [evaluate(a, env) for a in node.args])
    if kind is ListLit:
        return tuple(evaluate(i, env) for i in node.items)
    raise TypeError(f"unknown node {node!r}")


def compile_tree(node) -> Callable[[Env], Any]:
    """`evaluate` of one tree as nested closures, the dispatch on node types done once:
    the same steps in the same order with the same helpers, so the same answers (a tree
    that `evaluate` would not know falls back to it)."""
    try:
        return _compile(node)
    except (TypeError, ValueError):
        return lambda env: evaluate(node, env)


def _compile(node) -> Callable[[Env], Any]:  # noqa: C901  (one branch per kind of node)
    kind = type(node)
    if kind is Const:
        value = node.value
        return lambda env: value
    if kind is Name:
        name = node.id
        return lambda env: env.value(name)
    if kind is Attr:
        name, attr = node.id, node.attr
        return lambda env: env.attribute(name, attr)
    if kind is BoolOp:
        parts = tuple(_compile(o) for o in node.operands)
        if node.op == "and":
            return lambda env: all(truthy(p(env)) for p in parts)
        return lambda env: any(truthy(p(env)) for p in parts)
    if kind is Unary:
        operand = _compile(node.operand)
        if node.op == "not":
            return lambda env: not truthy(operand(env))
        return lambda env: _negate(operand(env))
    if kind is Binary:
        op, left, right = node.op, _compile(node.left), _compile(node.right)
        texts = _constant_texts(node.right, op)
        if texts is not None:
            # `compare` with text constants: only text equal to one of them is equal
            if op in ("==", "in"):
                return lambda env: type(v := left(env)) is str and v in texts
            return lambda env: not (type(v := left(env)) is str and v in texts)
        if op in ("+", "-", "*", "/"):
            return lambda env: arithmetic(op, left(env), right(env))
        return lambda env: compare(op, left(env), right(env))
    if kind is Call:
        fn, args = node.fn, tuple(_compile(a) for a in node.args)
        if fn == "if":
            condition, then, otherwise = args  # lazy, like the language reads
            return lambda env: then(env) if truthy(condition(env)) else otherwise(env)
        return lambda env: call(fn, [a(env) for a in args])
    if kind is ListLit:
        items = tuple(_compile(i) for i in node.items)
        return lambda env: tuple(i(env) for i in items)
    raise TypeError(f"unknown node {node!r}")


def _constant_texts(node, op: str) -> tuple[str, ...] | None:
    """The texts `x == 'a'` (`!=`) or `x in ['a', 'b']` (`notin`) compares with; else None."""
    if op in ("==", "!=") and type(node) is Const and type(node.value) is str:
        return (node.value,)
    if op in ("in", "notin") and type(node) is ListLit and all(
            type(i) is Const and type(i.value) is str for i in node.items):
        return tuple(i.value for i in node.items)
    return None


def _negate(value: Any) -> Any:
    return -value if is_number(value) else None


def mapping_env(values: Mapping[str, Any], attributes: Mapping[tuple[str, str], Any]) -> Env:
    return Env(values.get, lambda name, attr: attributes.get((name, attr)))
