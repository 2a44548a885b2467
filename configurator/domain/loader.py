"""Load spec files: schema check, then build frozen values, then cross-check and compile.

Every problem is reported as `<file>: <place>: <problem>`, never as a traceback.
"""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import jsonschema

from . import schema
from .expr import BoolOp, Expr, ExprError, Unary
from .model import (
    Choice, LineSpec, Measurement, MaterialSpec, Operation, Option, ProductSpec, Rule, Station,
    Surcharge, TextInput, Usage, VolumeTier,
)
from .parser import parse
from .spec_checks import Problems, SpecError, check_solvable, check_unique, cross_check

LINE_FILE = "line.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Catalog:
    products: dict[str, ProductSpec]
    line: LineSpec | None


def _place(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _schema_check(data: dict, spec_schema: dict, problems: Problems) -> None:
    validator = jsonschema.Draft202012Validator(spec_schema)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        problems.add(_place(error.absolute_path), _schema_message(error))
    problems.raise_if_any()


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"unknown key ({error.message.split('(')[-1].rstrip(')')})"
    if error.validator == "oneOf" and "require" in str(error.schema):
        return "give exactly one of `require` or `forbid`"
    if error.validator == "oneOf":
        return "give exactly one of `material` or `material_of`"
    return error.message


def _read_toml(path: Path, problems: Problems) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text), text
    except (OSError, UnicodeDecodeError) as exc:
        problems.add("", f"cannot read the file: {exc}")
    except tomllib.TOMLDecodeError as exc:
        problems.add("", f"not valid TOML: {exc}")
    problems.raise_if_any()
    raise AssertionError("unreachable")


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:  # the schema lets only numbers through; be safe anyway
        raise ValueError(f"not a number: {value!r}")


# ---------------------------------------------------------------- the line

def load_line(path: str | Path) -> LineSpec:
    path = Path(path)
    problems = Problems(str(path))
    data, text = _read_toml(path, problems)
    return _build_line(data, text, problems)


def _build_line(data: dict, text: str, problems: Problems) -> LineSpec:
    _schema_check(data, schema.LINE, problems)
    stations = tuple(
        Station(s["id"], s["name"], s["minutes_per_day"], _decimal(s["labour_rate"]))
        for s in data["stations"])
    check_unique([s.id for s in stations], "stations", problems)
    problems.raise_if_any()
    head = data["line"]
    return LineSpec(
        id=head["id"], name=head["name"], stations=stations,
        working_days=tuple(sorted(WEEKDAYS.index(d) for d in head["working_days"])),
        holidays=tuple(head.get("holidays", ())),
        version=hashlib.sha256(text.encode()).hexdigest()[:16], source_text=text)


# ---------------------------------------------------------------- a product

def load_product(path: str | Path, line: LineSpec) -> ProductSpec:
    path = Path(path)
    problems = Problems(str(path))
    data, text = _read_toml(path, problems)
    return _build_product(data, text, line, problems, str(path))


def load_product_text(product_text: str, line_text: str, label: str) -> ProductSpec:
    """Load a stored spec version (the texts an order pinned)."""
    line_problems = Problems(f"{label} (line)")
    line = _build_line(tomllib.loads(line_text), line_text, line_problems)
    problems = Problems(label)
    return _build_product(tomllib.loads(product_text), product_text, line, problems, label)


def _build_product(data: dict, text: str, line: LineSpec, problems: Problems,
                   path: str) -> ProductSpec:
    _schema_check(data, schema.PRODUCT, problems)
    builder = _ProductBuilder(data, problems)
    parts = builder.build()
    problems.raise_if_any()
    head = data["product"]
    version = hashlib.sha256(text.encode() + b"\0" + line.source_text.encode()).hexdigest()[:16]
    spec = ProductSpec(
        id=head["id"], name=head["name"], description=head.get("description", ""),
        currency=head["currency"], base_price=_decimal(head["base_price"]),
        lead_time_days=head["lead_time_days"], line=line, version=version, path=path,
        preview=head.get("preview", ""), image=head.get("image", ""), source_text=text, **parts)
    cross_check(spec, problems)
    problems.raise_if_any()
    check_solvable(spec, problems)
    problems.raise_if_any()
    return spec


class _ProductBuilder:
    """Turns checked TOML data into frozen values, parsing every expression once."""

    def __init__(self, data: dict, problems: Problems):
        self.data = data
        self.problems = problems

    def expr(self, value: Any, place: str) -> Expr | None:
        if value is None:
            return None
        try:
            return parse(value)
        except ExprError as exc:
            self.problems.add(place, f"bad expression: {exc}")
            return None

    def build(self) -> dict:
        d = self.data
        return {
            "options": tuple(self.option(o, i) for i, o in enumerate(d.get("options", []))),
            "measurements": tuple(self.measurement(m) for m in d.get("measurements", [])),
            "texts": tuple(
                TextInput(t["id"], t["label"], t["max_length"], t["allowed"], t.get("help", ""),
                          t.get("required", False), self.expr(t.get("when"), f"texts[{i}].when"))
                for i, t in enumerate(d.get("texts", []))),
            "rules": tuple(r for r in (self.rule(r, i) for i, r in enumerate(d.get("rules", [])))
                           if r is not None),
            "surcharges": tuple(
                Surcharge(s["id"], s["label"], self.expr(s["amount"], f"surcharges[{i}].amount"),
                          self.expr(s.get("when"), f"surcharges[{i}].when"))
                for i, s in enumerate(d.get("surcharges", []))),
            "volume_tiers": tuple(sorted(
                (VolumeTier(v["min_units"], _decimal(v["percent_off"]))
                 for v in d.get("volume_tiers", [])), key=lambda v: v.min_units)),
            "materials": tuple(
                MaterialSpec(m["id"], m["name"], m["unit"], _decimal(m["unit_cost"]),
                             _decimal(m["stock"]))
                for m in d.get("materials", [])),
            "usage": tuple(
                Usage(self.expr(u["quantity"], f"usage[{i}].quantity"), u.get("material"),
                      u.get("material_of"), self.expr(u.get("when"), f"usage[{i}].when"),
                      u.get("note", ""))
                for i, u in enumerate(d.get("usage", []))),
            "operations": tuple(
                Operation(o["station"], o["name"],
                          self.expr(o["minutes"], f"operations[{i}].minutes"),
                          self.expr(o.get("when"), f"operations[{i}].when"))
                for i, o in enumerate(d.get("operations", []))),
        }

    def option(self, o: dict, i: int) -> Option:
        choices = tuple(
            Choice(c["id"], c["label"], _decimal(c.get("price", 0)), c.get("help", ""),
                   dict(c.get("attributes", {})), c.get("material"), c.get("colour"))
            for c in o["choices"])
        return Option(o["id"], o["label"], choices, o.get("help", ""), o.get("required", True),
                      o.get("default"), o.get("display", "radio"),
                      self.expr(o.get("when"), f"options[{i}].when"), o.get("group", ""))

    def measurement(self, m: dict) -> Measurement:
        typical = m.get("typical")
        return Measurement(m["id"], m["label"], m["unit"], _decimal(m["min"]), _decimal(m["max"]),
                           _decimal(m["step"]), m.get("help", ""), m.get("group", ""),
                           None if typical is None else _decimal(typical))

    def rule(self, r: dict, i: int) -> Rule | None:
        place = f"rules[{i}] (id {r['id']!r})"
        when = self.expr(r.get("when"), place + ".when")
        body_source = r.get("require", r.get("forbid"))
        body = self.expr(body_source, place + (".require" if "require" in r else ".forbid"))
        if body is None or ("when" in r and when is None):
            return None
        tree = body.tree if "require" in r else Unary("not", body.tree)
        source = f"require {body.source}" if "require" in r else f"forbid {body.source}"
        if when is not None:
            tree = BoolOp("or", (Unary("not", when.tree), tree))
            source = f"when {when.source}: {source}"
        return Rule(r["id"], r["message"].strip(), Expr(source, tree), source)


# ---------------------------------------------------------------- a folder

def _product_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.toml") if p.name != LINE_FILE)


def _load_all(directory: Path) -> tuple[list[str], LineSpec | None, dict[str, ProductSpec]]:
    try:
        line = load_line(directory / LINE_FILE)
    except SpecError as exc:
        return exc.problems, None, {}
    problems: list[str] = []
    products: dict[str, ProductSpec] = {}
    for path in _product_files(directory):
        try:
            spec = load_product(path, line)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        if spec.id in products:
            problems.append(f"{path}: product.id: {spec.id!r} is also the id in "
                            f"{products[spec.id].path}")
        products[spec.id] = spec
    return problems, line, products


def check_specs(directory: str | Path) -> list[str]:
    """Every problem in every spec of a folder, one line each (empty: all good)."""
    return _load_all(Path(directory))[0]


def load_specs(directory: str | Path) -> Catalog:
    """Load every product in a folder, or raise SpecError listing every problem."""
    directory = Path(directory)
    if not (directory / LINE_FILE).exists() and not _product_files(directory):
        return Catalog({}, None)
    problems, line, products = _load_all(directory)
    if problems:
        raise SpecError(problems)
    return Catalog(products, line)
