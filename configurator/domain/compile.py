"""Compile a spec once into the structures `propagate` walks.

1. Ground every rule over the options it names: each row of option values leaves true, false,
   or linear inequalities over measurements (`ground.py`).
2. Group each option's choices into classes that every rule treats alike (25 fabrics are a
   handful of classes), so the work is on classes, not choices.
3. The options that decide which measurement inequalities apply form one "numeric" scope; each
   of its rows maps to a scenario (the set of inequalities in force).
4. A junction tree (min-fill elimination) over the options: cluster tables are small, and two
   passes of messages give every option's exact support (see `engine.py`).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any
from weakref import WeakKeyDictionary

from .expr import Env, evaluate
from .ground import Atom, GroundError, conjunction, ground
from .model import ProductSpec
from .numeric import Grid, Linear

MAX_ROWS = 400_000


class CompileError(ValueError):
    """A spec the engine cannot compile; `place` names where in the file."""

    def __init__(self, place: str, message: str):
        super().__init__(message)
        self.place = place


def attribute_value(value: Any) -> Any:
    """Spec attributes in the rule language's types: numbers exact, the rest as they are."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return Fraction(str(value))


@dataclass
class Table:
    """One rule (or an option's applicability) grounded over its options."""
    rule_id: str | None
    message: str
    scope: tuple[int, ...]
    rows: dict[tuple[int, ...], tuple[int, ...]]  # allowed value rows -> atom ids in force
    mixed: bool  # some row leaves measurement inequalities
    class_rows: dict[tuple[int, ...], tuple[int, ...]] = field(default_factory=dict)
    by_value: dict[tuple[int, int], list] = field(default_factory=dict)  # (var, value) -> rows

    def index_rows(self) -> None:
        for p, var in enumerate(self.scope):
            for row, atoms in self.rows.items():
                self.by_value.setdefault((var, row[p]), []).append((row, atoms))


@dataclass
class Cluster:
    vars: tuple[int, ...]
    parent: int | None = None
    children: list[int] = field(default_factory=list)
    tables: list[int] = field(default_factory=list)
    numeric: bool = False  # holds the numeric scope
    rows: list[tuple[int, ...]] = field(default_factory=list)
    scenario: list[int] = field(default_factory=list)
    homed: list[tuple[int, int]] = field(default_factory=list)  # (var, position)
    parent_pos: tuple[int, ...] = ()  # positions of the separator with the parent
    child_pos: dict[int, tuple[int, ...]] = field(default_factory=dict)
    tree: int = 0
    parent_keys: list[tuple] = field(default_factory=list)  # each row's separator with parent
    child_keys: dict[int, list[tuple]] = field(default_factory=dict)  # ... with each child


@dataclass
class Compiled:
    spec: ProductSpec
    option_ids: list[str]
    option_index: dict[str, int]
    values: list[list[str | None]]
    value_index: list[dict[str | None, int]]
    class_of: list[list[int]]
    classes: list[list[list[int]]]
    tables: list[Table]
    measurement_ids: list[str]
    measurement_index: dict[str, int]
    grids: list[Grid]
    unit: Fraction
    linears: list[Linear]
    base_atoms: tuple[int, ...]
    numeric_scope: tuple[int, ...]
    scenarios: list[tuple[int, ...]]
    numeric_table: dict[tuple[int, ...], int]
    clusters: list[Cluster]
    home: list[int]
    trees: int
    attributes: dict[tuple[str, str], dict[str, Any]]
    var_tables: list[list[int]]
    # measurements split into groups no inequality crosses; each scenario is one
    # sub-scenario (a tuple of linear ids) per group
    measurement_groups: list[tuple[int, ...]] = field(default_factory=list)
    group_of: list[int] = field(default_factory=list)
    sub_scenarios: list[tuple[tuple[int, ...], ...]] = field(default_factory=list)
    # exact ranges of a measurement group, shared by every call: they depend only on the group,
    # its sub-scenario, the relaxed measurement and the group's entered values (engine.py)
    range_cache: dict = field(default_factory=dict)
    # which scenarios the entered measurements allow, by the entries (engine.py): read-only
    scenario_cache: dict = field(default_factory=dict)
    # the material each value of each option consumes (None: none), for the stock check
    value_materials: list[list[str | None]] = field(default_factory=list)
    # grid values (whole numbers of `unit`) as Decimals, filled as asked (bounded by the grids)
    decimals: dict[int, Decimal] = field(default_factory=dict)


def _fraction_gcd(values: list[Fraction]) -> Fraction:
    den = math.lcm(*(v.denominator for v in values)) if values else 1
    num = math.gcd(*(int(v * den) for v in values)) if values else 1
    return Fraction(num or 1, den)


class _Compiler:
    def __init__(self, spec: ProductSpec):
        self.spec = spec
        self.option_ids = [o.id for o in spec.options]
        self.option_index = {oid: i for i, oid in enumerate(self.option_ids)}
        self.values = [[c.id for c in o.choices] + ([None] if o.when is not None or not o.required
                                                    else []) for o in spec.options]
        self.value_index = [{v: j for j, v in enumerate(vals)} for vals in self.values]
        self.attributes = {(o.id, c.id): {k: attribute_value(v) for k, v in c.attributes.items()}
                           for o in spec.options for c in o.choices}
        self.measurement_ids = [m.id for m in spec.measurements]
        self.measurement_index = {m: i for i, m in enumerate(self.measurement_ids)}
        steps = [Fraction(str(m.step)) for m in spec.measurements]
        lows = [Fraction(str(m.min)) for m in spec.measurements]
        self.unit = _fraction_gcd(steps + [x for x in lows if x])
        self.grids = []
        for m, lo, st in zip(spec.measurements, lows, steps):
            a, s = int(lo / self.unit), int(st / self.unit)
            hi = int(Fraction(str(m.max)) / self.unit)
            self.grids.append(Grid(a, a + ((hi - a) // s) * s, s))
        self.linears: list[Linear] = []
        self.linear_index: dict[Linear, int] = {}
        self.base_atoms: set[int] = set()

    # -- grounding ------------------------------------------------------------------------

    def env_for(self, scope: tuple[int, ...], row: tuple[int, ...]) -> tuple:
        chosen = {self.option_ids[s]: self.values[s][v] for s, v in zip(scope, row)}

        def value(name: str) -> Any:
            return chosen.get(name)

        def attr(name: str, key: str) -> Any:
            choice = chosen.get(name)
            return None if choice is None else self.attributes[(name, choice)].get(key)
        return value, attr

    def rows(self, scope: tuple[int, ...], place: str):
        size = math.prod(len(self.values[s]) for s in scope)
        if size > MAX_ROWS:
            raise CompileError(place, f"links {len(scope)} options with {size} combinations; "
                                      "split it into smaller rules")
        return itertools.product(*(range(len(self.values[s])) for s in scope))

    def linear(self, atom: Atom) -> int:
        scaled = [(self.measurement_index[n], c * self.unit) for n, c in atom.terms]
        den = math.lcm(atom.const.denominator, *(c.denominator for _, c in scaled))
        terms = [(v, int(c * den)) for v, c in scaled]
        bound = -int(atom.const * den) + (1 if atom.strict else 0)
        g = math.gcd(*(abs(a) for _, a in terms))
        linear = Linear(tuple(sorted((v, a // g) for v, a in terms)), -((-bound) // g))
        if linear not in self.linear_index:
            self.linear_index[linear] = len(self.linears)
            self.linears.append(linear)
        return self.linear_index[linear]

    def rule_table(self, i: int) -> Table | None:
        rule = self.spec.rules[i]
        place = f"rules[{i}] (id {rule.id!r})"
        names = rule.expr.names()
        scope = tuple(sorted(self.option_index[n] for n in names if n in self.option_index))
        measurements = frozenset(n for n in names if n in self.measurement_index)
        rows: dict[tuple[int, ...], tuple[int, ...]] = {}
        mixed = False
        for row in self.rows(scope, place):
            value, attr = self.env_for(scope, row)
            try:
                residual = conjunction(ground(rule.expr.tree, value, attr, measurements))
            except GroundError as exc:
                raise CompileError(place, f"{exc} (in {rule.source!r})")
            if residual is False:
                continue
            atoms = () if residual is True else tuple(sorted({self.linear(a) for a in residual}))
            mixed = mixed or bool(atoms)
            rows[row] = atoms
        if not rows:
            raise CompileError(place, f"can never be satisfied: {rule.source!r}")
        if not scope:
            self.base_atoms.update(rows[()])
            return None
        return Table(rule.id, rule.message, scope, rows, mixed)

    def applicability_table(self, i: int) -> Table:
        option = self.spec.options[i]
        scope = tuple(sorted({i, *(self.option_index[n] for n in option.when.names())}))
        pos = scope.index(i)
        rows = {}
        for row in self.rows(scope, f"options[{i}] (id {option.id!r}).when"):
            value, attr = self.env_for(scope, row)
            applies = bool(evaluate(option.when.tree, Env(value, attr)))
            chosen = self.values[i][row[pos]]
            if ((chosen is None and not (applies and option.required))
                    or (chosen is not None and applies)):
                rows[row] = ()
        return Table(None, f"{option.label} only applies when {option.when.source}", scope, rows,
                     False)

    # -- classes --------------------------------------------------------------------------

    def value_classes(self, tables: list[Table], var_tables: list[list[int]]):
        class_of, classes = [], []
        for var, values in enumerate(self.values):
            signatures: dict[tuple, int] = {}
            mine, groups = [], []
            for v in range(len(values)):
                sig = tuple(self._signature(tables[t], var, v) for t in var_tables[var])
                if sig not in signatures:
                    signatures[sig] = len(groups)
                    groups.append([])
                groups[signatures[sig]].append(v)
                mine.append(signatures[sig])
            class_of.append(mine)
            classes.append(groups)
        return class_of, classes

    @staticmethod
    def _signature(table: Table, var: int, value: int) -> frozenset:
        p = table.scope.index(var)
        return frozenset((row[:p] + row[p + 1:], atoms) for row, atoms in table.rows.items()
                         if row[p] == value)


def _eliminate(n: int, scopes: list[tuple[int, ...]]) -> tuple[list[int], list[set[int]]]:
    """Greedy min-fill elimination: the order and each variable's clique."""
    adjacent = [set() for _ in range(n)]
    for scope in scopes:
        for a in scope:
            adjacent[a].update(b for b in scope if b != a)
    remaining, order, cliques = set(range(n)), [], [set() for _ in range(n)]

    def fill(v: int) -> int:
        near = list(adjacent[v] & remaining)
        return sum(1 for a, b in itertools.combinations(near, 2) if b not in adjacent[a])
    while remaining:
        v = min(remaining, key=lambda x: (fill(x), len(adjacent[x] & remaining), x))
        near = adjacent[v] & remaining
        for a in near:
            adjacent[a].update(near - {a})
        cliques[v] = {v} | near
        order.append(v)
        remaining.discard(v)
    return order, cliques


def _build_tree(c: _Compiler, tables: list[Table], numeric_scope: tuple[int, ...]):
    n = len(c.option_ids)
    scopes = [t.scope for t in tables if not t.mixed] + ([numeric_scope] if numeric_scope else [])
    order, cliques = _eliminate(n, scopes)
    position = {v: k for k, v in enumerate(order)}
    clusters = [Cluster(tuple(sorted(cliques[v]))) for v in order]
    for k, v in enumerate(order):
        later = cliques[v] - {v}
        if later:
            parent = position[min(later, key=position.get)]
            clusters[k].parent = parent
            clusters[parent].children.append(k)
    home = [position[v] for v in range(n)]

    def owner(scope) -> int:
        return position[min(scope, key=position.get)]
    for t, table in enumerate(tables):
        if not table.mixed:
            clusters[owner(table.scope)].tables.append(t)
    if numeric_scope:
        clusters[owner(numeric_scope)].numeric = True
    for k in reversed(range(len(clusters))):  # roots come last in elimination order
        cl = clusters[k]
        cl.tree = k if cl.parent is None else clusters[cl.parent].tree
        cl.homed = [(v, cl.vars.index(v)) for v in cl.vars if home[v] == k]
        if cl.parent is not None:
            parent = clusters[cl.parent]
            sep = [v for v in cl.vars if v in parent.vars]
            cl.parent_pos = tuple(cl.vars.index(v) for v in sep)
            parent.child_pos[k] = tuple(parent.vars.index(v) for v in sep)
    return clusters, home


def _fill_rows(c: _Compiler, clusters: list[Cluster], tables: list[Table], classes,
               numeric_scope, numeric_table) -> None:
    for k, cl in enumerate(clusters):
        size = math.prod(len(classes[v]) for v in cl.vars)
        if size > MAX_ROWS:
            linked = [c.option_ids[v] for v in cl.vars]
            raise CompileError("rules", f"the rules link options {linked} into {size} "
                                        "combinations; simplify them")
        checks = [(tuple(cl.vars.index(s) for s in tables[t].scope), tables[t].class_rows)
                  for t in cl.tables]
        npos = tuple(cl.vars.index(s) for s in numeric_scope) if cl.numeric else ()
        for row in itertools.product(*(range(len(classes[v])) for v in cl.vars)):
            if all(tuple(row[p] for p in pos) in allowed for pos, allowed in checks):
                if cl.numeric:
                    scenario = numeric_table.get(tuple(row[p] for p in npos))
                    if scenario is None:
                        continue
                    cl.scenario.append(scenario)
                cl.rows.append(row)
        cl.parent_keys = [tuple(row[p] for p in cl.parent_pos) for row in cl.rows]
        cl.child_keys = {ch: [tuple(row[p] for p in pos) for row in cl.rows]
                         for ch, pos in cl.child_pos.items()}


_COMPILED: "WeakKeyDictionary[ProductSpec, Compiled]" = WeakKeyDictionary()


def compiled(spec: ProductSpec) -> Compiled:
    """The compiled form of a spec, made once per loaded spec."""
    found = _COMPILED.get(spec)
    if found is None:
        found = _COMPILED[spec] = compile_spec(spec)
    return found


def compile_spec(spec: ProductSpec) -> Compiled:
    c = _Compiler(spec)
    tables = [t for t in (c.rule_table(i) for i in range(len(spec.rules))) if t is not None]
    tables += [c.applicability_table(i) for i, o in enumerate(spec.options) if o.when is not None]
    var_tables = [[t for t, table in enumerate(tables) if v in table.scope]
                  for v in range(len(c.option_ids))]
    class_of, classes = c.value_classes(tables, var_tables)
    for table in tables:
        table.index_rows()
        table.class_rows = {tuple(class_of[s][v] for s, v in zip(table.scope, row)): atoms
                            for row, atoms in table.rows.items()}
    mixed = [t for t in tables if t.mixed]
    numeric_scope = tuple(sorted({s for t in mixed for s in t.scope}))
    scenarios: list[tuple[int, ...]] = []
    scenario_ids: dict[tuple[int, ...], int] = {}
    numeric_table: dict[tuple[int, ...], int] = {}
    size = math.prod(len(classes[s]) for s in numeric_scope)
    if size > MAX_ROWS:
        raise CompileError("rules", "too many options decide which measurement rules apply")
    for row in itertools.product(*(range(len(classes[s])) for s in numeric_scope)):
        atoms = set(c.base_atoms)
        for t in mixed:
            projected = tuple(row[numeric_scope.index(s)] for s in t.scope)
            if projected not in t.class_rows:
                break
            atoms.update(t.class_rows[projected])
        else:
            key = tuple(sorted(atoms))
            numeric_table[row] = scenario_ids.setdefault(key, len(scenarios))
            if len(scenarios) < len(scenario_ids):
                scenarios.append(key)
    clusters, home = _build_tree(c, tables, numeric_scope)
    _fill_rows(c, clusters, tables, classes, numeric_scope, numeric_table)
    groups, group_of = _measurement_groups(len(c.measurement_ids), c.linears)
    subs = [tuple(tuple(a for a in sc if group_of[c.linears[a].terms[0][0]] == g)
                  for g in range(len(groups))) for sc in scenarios]
    return Compiled(
        spec=spec, option_ids=c.option_ids, option_index=c.option_index, values=c.values,
        value_index=c.value_index, class_of=class_of, classes=classes, tables=tables,
        measurement_ids=c.measurement_ids, measurement_index=c.measurement_index, grids=c.grids,
        unit=c.unit, linears=c.linears, base_atoms=tuple(sorted(c.base_atoms)),
        numeric_scope=numeric_scope, scenarios=scenarios, numeric_table=numeric_table,
        clusters=clusters, home=home, trees=len({cl.tree for cl in clusters}),
        attributes=c.attributes, var_tables=var_tables, measurement_groups=groups,
        group_of=group_of, sub_scenarios=subs,
        value_materials=[[None if v is None else o.choice(v).material for v in c.values[i]]
                         for i, o in enumerate(spec.options)])


def _measurement_groups(n: int, linears: list[Linear]) -> tuple[list[tuple[int, ...]], list[int]]:
    parent = list(range(n))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v
    for linear in linears:
        for v, _ in linear.terms[1:]:
            parent[find(v)] = find(linear.terms[0][0])
    roots: dict[int, int] = {}
    group_of = [roots.setdefault(find(v), len(roots)) for v in range(n)]
    groups = [tuple(v for v in range(n) if group_of[v] == g) for g in range(len(roots))]
    return groups, group_of
