"""The rule language's parser: source text (or a TOML number or boolean) to an `Expr`, with
errors that say where. The tree and its meaning are in `expr`."""
from __future__ import annotations

import re
from fractions import Fraction

from .expr import Attr, Binary, BoolOp, Call, Const, Expr, ExprError, ListLit, Name, Unary

FUNCTIONS = {"if": (3, 3), "min": (1, 99), "max": (1, 99), "round": (1, 2)}

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


def parse(source: str | int | float | bool) -> Expr:
    """Parse an expression once; numbers and booleans from TOML become constants."""
    if isinstance(source, bool):
        return Expr(str(source).lower(), Const(source))
    if isinstance(source, (int, float)):
        return Expr(str(source), Const(Fraction(str(source))))
    return Expr(source, _Parser(source).parse())
