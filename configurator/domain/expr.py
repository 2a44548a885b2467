"""The rule language: a small expression language parsed once into a tree, never `eval`-ed.

Names are option ids (their chosen choice id), `option.attribute`, and measurement ids.
`evaluate` gives the reference meaning on a complete design; the engine compiles the same
trees into constraints (see `ground`), and the property tests hold the two to each other.
"""
from __future__ import annotations

import re
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


FUNCTIONS = {"if": (3, 3), "min": (1, 99), "max": (1, 99), "round": (1, 2)}

# ---------------------------------------------------------------- parsing

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'[^'\\]*'|"[^"\\]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|[<>+\-*/(),.\[\]])
""", re.VERBOSE)

_COMPARE = {"==", "!=", "<", "<=", ">", ">="}
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}


def _tokenize(source: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match:
            raise ExprError(f"unexpected character {source[pos]!r}", source, pos)
        kind = match.lastgroup
        if kind != "ws":
            tokens.append((kind, match.group(), pos))
        pos = match.end()
    tokens.append(("end", "", len(source)))
    return tokens


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = _tokenize(source)
        self.i = 0

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        k, v, _ = self.tokens[self.i]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, value: str) -> None:
        kind, got, pos = self.take()
        if got != value:
            raise ExprError(f"expected {value!r} but found {got or 'the end'!r}", self.source, pos)

    def parse(self):
        node = self.or_()
        kind, value, pos = self.tokens[self.i]
        if kind != "end":
            raise ExprError(f"unexpected {value!r}", self.source, pos)
        return node

    def or_(self):
        items = [self.and_()]
        while self.peek("or", "name"):
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_(self):
        items = [self.not_()]
        while self.peek("and", "name"):
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def not_(self):
        if self.peek("not", "name"):
            self.take()
            return Unary("not", self.not_())
        return self.comparison()

    def comparison(self):
        left = self.additive()
        kind, value, _ = self.tokens[self.i]
        if value in _COMPARE:
            self.take()
            return Binary(value, left, self.additive())
        if kind == "name" and value == "in":
            self.take()
            return Binary("in", left, self.additive())
        if kind == "name" and value == "not" and self.tokens[self.i + 1][1] == "in":
            self.i += 2
            return Binary("notin", left, self.additive())
        return left

    def additive(self):
        node = self.term()
        while self.peek("+") or self.peek("-"):
            op = self.take()[1]
            node = Binary(op, node, self.term())
        return node

    def term(self):
        node = self.unary()
        while self.peek("*") or self.peek("/"):
            op = self.take()[1]
            node = Binary(op, node, self.unary())
        return node

    def unary(self):
        if self.peek("-"):
            self.take()
            return Unary("-", self.unary())
        return self.primary()

    def primary(self):
        kind, value, pos = self.take()
        if kind == "num":
            return Const(Fraction(value))
        if kind == "str":
            return Const(value[1:-1])
        if value == "(":
            node = self.or_()
            self.expect(")")
            return node
        if value == "[":
            return ListLit(tuple(self.items("]")))
        if kind == "name":
            return self.named(value, pos)
        raise ExprError(f"unexpected {value or 'end of expression'!r}", self.source, pos)

    def items(self, closing: str) -> list:
        items = []
        if not self.peek(closing):
            items.append(self.or_())
            while self.peek(","):
                self.take()
                items.append(self.or_())
        self.expect(closing)
        return items

    def named(self, value: str, pos: int):
        constants = {"true": True, "false": False, "null": None}
        if value in constants:
            return Const(constants[value])
        if value in _KEYWORDS:
            raise ExprError(f"unexpected keyword {value!r}", self.source, pos)
        if self.peek("("):
            self.take()
            args = tuple(self.items(")"))
            if value not in FUNCTIONS:
                raise ExprError(f"unknown function {value!r}", self.source, pos)
            low, high = FUNCTIONS[value]
            if not low <= len(args) <= high:
                raise ExprError(f"{value}() takes {low}..{high} arguments", self.source, pos)
            return Call(value, args)
        if self.peek("."):
            self.take()
            kind, attr, apos = self.take()
            if kind != "name":
                raise ExprError("expected an attribute name after '.'", self.source, apos)
            return Attr(value, attr)
        return Name(value)


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


def parse(source: str | int | float | bool) -> Expr:
    """Parse an expression once; numbers and booleans from TOML become constants."""
    if isinstance(source, bool):
        return Expr(str(source).lower(), Const(source))
    if isinstance(source, (int, float)):
        return Expr(str(source), Const(Fraction(str(source))))
    return Expr(source, _Parser(source).parse())


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
