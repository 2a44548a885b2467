"""The constraint engine: `propagate` a partial design (what is still possible, and why not);
`feasible`, `drop_inactive`. Checking a complete design is `validation.validate`.

`propagate` is exact ("backtrack-free and complete"): a choice is shown available exactly when
some valid design keeps every other selection and every entered measurement and uses it; a
measurement's range is exactly the values some such design gives it (its own entry set aside).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import numeric
from .compile import Compiled, compiled
from .model import ProductSpec
from .reasons import excluding
from .results import ChoiceState, MeasurementRange, Propagation, Reason
from .validation import applies, as_dict, measurement_problem, plain_decimal, to_fraction

OUT_OF_STOCK = "out-of-stock"
AVAILABLE = ChoiceState(True)  # frozen: one for every available choice


def sold_out(stock: Mapping[str, Decimal] | None) -> frozenset[str]:
    """The materials `stock` lists with nothing left: all `propagate` reads of the stock (a
    choice is out of stock when its material is one of them)."""
    return frozenset(m for m, level in stock.items() if not level > 0) if stock else frozenset()


RANGE_CACHE_SIZE = 20_000  # group answers kept per product (a few MB at most)
_MISSING = object()


class _Call:
    """The state of one `propagate` call."""

    def __init__(self, cp: Compiled, design: Any, stock: Mapping[str, Decimal] | None):
        self.cp = cp
        self.spec = cp.spec
        design = design if isinstance(design, dict) else {}
        self.selected = self._selections(as_dict(design.get("options")))
        self.entered = self._entries(as_dict(design.get("measurements")))
        self.stock = stock
        short = sold_out(stock)
        self.in_stock = [[material is None or material not in short for material in row]
                         for row in cp.value_materials]
        self.numeric_cache: dict[tuple, Any] = {}
        self.component_memo: dict = {}
        self._fixed: tuple[list[int], list[int]] | None = None

    def _selections(self, options: Mapping[str, Any]) -> dict[int, int]:
        cp = self.cp
        picked = {cp.option_index[k]: cp.value_index[cp.option_index[k]][v]
                  for k, v in options.items()
                  if k in cp.option_index and isinstance(v, str)
                  and v in cp.value_index[cp.option_index[k]]}
        names = {cp.option_ids[i]: cp.values[i][j] for i, j in picked.items()}
        # A selection of an option that cannot apply under the other selections is dropped.
        for i in list(picked):
            when = self.spec.options[i].when
            if (when is not None and when.names() <= names.keys()
                    and not applies(self.spec, when, names)):
                del picked[i]
        return picked

    def _entries(self, values: Mapping[str, Any]) -> dict[int, int]:
        cp, out = self.cp, {}
        for mid, raw in values.items():
            m = self.spec.measurement(mid) if isinstance(mid, str) else None
            value = to_fraction(raw)
            if m is not None and measurement_problem(m, value) is None:
                out[cp.measurement_index[mid]] = int(value / cp.unit)
        return out

    # -- numeric -----------------------------------------------------------------------

    def group_ranges(self, group: int, sub: tuple[int, ...], relax: int | None):
        """Exact ranges of one group of measurements under some inequalities (None: none)."""
        key = (group, sub, relax)
        found = self.numeric_cache.get(key, _MISSING)
        if found is _MISSING:
            cp = self.cp
            variables = cp.measurement_groups[group]
            fixed = tuple(self.entered.get(v) if v != relax else None for v in variables)
            shared = (group, sub, relax, fixed)
            found = cp.range_cache.get(shared, _MISSING)
            if found is _MISSING:
                found = self._solve_group(variables, sub, fixed)
                if len(cp.range_cache) >= RANGE_CACHE_SIZE:
                    cp.range_cache.clear()  # crude but bounded; refills with what is in use
                cp.range_cache[shared] = found
            self.numeric_cache[key] = found
        return found

    def _solve_group(self, variables, sub, fixed):
        cp = self.cp
        index = {v: i for i, v in enumerate(variables)}
        lo = [cp.grids[v].lo for v in variables]
        hi = [cp.grids[v].hi for v in variables]
        for v, value in zip(variables, fixed):
            if value is not None:
                lo[index[v]] = hi[index[v]] = value
        local = [numeric.Linear(tuple((index[v], a) for v, a in cp.linears[x].terms),
                                cp.linears[x].bound) for x in sub]
        found = numeric.ranges(lo, hi, [cp.grids[v] for v in variables], local,
                               self.component_memo)
        return None if found is None else tuple(found)  # shared between calls: read-only

    def scenario_feasible(self, scenario: int, skip_group: int | None = None) -> bool:
        subs = self.cp.sub_scenarios[scenario]
        return all(self.group_ranges(g, sub, None) is not None
                   for g, sub in enumerate(subs) if g != skip_group)

    def fixed_bounds(self) -> tuple[list[int], list[int]]:
        """Every measurement's grid bounds, entered ones fixed; built once per call."""
        if self._fixed is None:
            lo = [g.lo for g in self.cp.grids]
            hi = [g.hi for g in self.cp.grids]
            for v, x in self.entered.items():
                lo[v] = hi[v] = x
            self._fixed = (lo, hi)
        return self._fixed

    # -- options -----------------------------------------------------------------------

    def evidence(self) -> list[set[int] | None]:
        cp, out = self.cp, []
        for i in range(len(cp.option_ids)):
            if i in self.selected:
                v = self.selected[i]
                allowed = {cp.class_of[i][v]} if self.in_stock[i][v] else set()
                if self.spec.options[i].when is not None:  # holds only while it applies
                    allowed.add(cp.class_of[i][cp.value_index[i][None]])
                out.append(allowed)
            elif all(self.in_stock[i]):
                out.append(None)
            else:
                out.append({cp.class_of[i][v] for v, ok in enumerate(self.in_stock[i]) if ok})
        return out

    def scenarios_ok(self) -> dict[int, bool]:
        """Each numeric scenario: can the entered measurements meet it? It depends on the
        entries alone, so it is shared by every call with the same ones (read-only)."""
        cp = self.cp
        if not cp.numeric_scope:
            return {}
        key = tuple(sorted(self.entered.items()))
        found = cp.scenario_cache.get(key)
        if found is None:
            found = {s: self.scenario_feasible(s) for s in set(cp.numeric_table.values())}
            if len(cp.scenario_cache) >= RANGE_CACHE_SIZE:
                cp.scenario_cache.clear()
            cp.scenario_cache[key] = found
        return found

    def upward(self, ev, ok) -> dict[int, set]:
        """The pass from the leaves: each cluster's separator keys with its parent that some
        assignment of its subtree allows (a root's: () when its tree allows any)."""
        cp = self.cp
        up: dict[int, set] = {}
        for k, cl in enumerate(cp.clusters):
            checks = [(p, ev[v]) for v, p in cl.homed if ev[v] is not None]
            children = [(cl.child_keys[ch], up[ch]) for ch in cl.children]
            scenario = cl.scenario if cl.numeric else None
            parent_keys, msg = cl.parent_keys, set()
            for r, row in enumerate(cl.rows):  # plain loops: this runs for every row
                for p, allowed in checks:
                    if row[p] not in allowed:
                        break
                else:
                    if scenario is not None and not ok[scenario[r]]:
                        continue
                    for keys, got in children:
                        if keys[r] not in got:
                            break
                    else:
                        msg.add(parent_keys[r])
            up[k] = msg
        return up

    def solve_options(self):  # noqa: C901  (the hot loop, inlined on purpose: docs/load.md)
        """Two message passes over the junction tree: exact supports, with and without each
        option's own selection, and which numeric scenarios some option assignment reaches."""
        cp, ev = self.cp, self.evidence()
        ok = self.scenarios_ok()
        up = self.upward(ev, ok)
        down: dict[int, set] = {}
        support = [set() for _ in cp.option_ids]
        relaxed = [set() for _ in cp.option_ids]
        tree_ok: dict[int, bool] = {}
        scenarios_seen: set[int] = set()
        for k in reversed(range(len(cp.clusters))):
            cl = cp.clusters[k]
            checks = [(v, p, ev[v]) for v, p in cl.homed if ev[v] is not None]
            children = [(ch, cl.child_keys[ch], up[ch]) for ch in cl.children]
            from_parent = down.get(k)
            outgoing = {ch: set() for ch in cl.children}
            any_full = False
            scenario = cl.scenario if cl.numeric else None
            for r, row in enumerate(cl.rows):
                # A row with no defect is in a full assignment; with one, it tells what that
                # one thing (a selection, the scenario, a child) would need; with more, nothing.
                defects, defect = 0, None
                for v, p, allowed in checks:
                    if row[p] not in allowed:
                        defects, defect = defects + 1, ("evidence", v, p)
                        if defects > 1:
                            break
                if defects > 1:
                    continue
                if scenario is not None and not ok[scenario[r]]:
                    if defects:
                        continue
                    defects, defect = 1, ("scenario", None, None)
                for ch, keys, got in children:
                    if keys[r] not in got:
                        defects, defect = defects + 1, ("child", ch, None)
                        if defects > 1:
                            break
                if defects > 1:
                    continue
                if from_parent is not None and cl.parent_keys[r] not in from_parent:
                    if defects:
                        continue
                    defects, defect = 1, ("parent", None, None)
                if not defects:
                    any_full = True
                    for v, p in cl.homed:
                        support[v].add(row[p])
                    for ch, keys, _ in children:
                        outgoing[ch].add(keys[r])
                    if scenario is not None:
                        scenarios_seen.add(scenario[r])
                else:
                    kind, what, p = defect
                    if kind == "evidence":
                        relaxed[what].add(row[p])
                    elif kind == "child":
                        outgoing[what].add(cl.child_keys[what][r])
                    elif kind == "scenario":
                        scenarios_seen.add(scenario[r])
            down.update(outgoing)
            if cl.parent is None:
                tree_ok[k] = any_full
        return support, relaxed, tree_ok, scenarios_seen, ok


def propagate(spec: ProductSpec, design: Any,
              stock: Mapping[str, Decimal] | None = None) -> Propagation:
    """What a partial design still allows: every choice (with the reasons it is excluded),
    every measurement's range, the price so far."""
    from .pricing import quote_partial

    cp = compiled(spec)
    call = _Call(cp, design, stock)
    support, relaxed, tree_ok, scenarios_seen, ok = call.solve_options()
    numeric_ok = ok if cp.numeric_scope else {0: call.scenario_feasible(0)}
    if not cp.numeric_scope:
        scenarios_seen = {0} if all(tree_ok.values()) else set()
    all_trees = all(tree_ok.values())
    if cp.numeric_scope:
        numeric_tree = next(cl.tree for cl in cp.clusters if cl.numeric)
        if not all(good for t, good in tree_ok.items() if t != numeric_tree):
            scenarios_seen = set()
    feasible = all_trees and any(numeric_ok.get(s, False) for s in scenarios_seen)
    options, active = _option_states(call, support, relaxed, tree_ok, numeric_ok)
    measurements = _measurement_ranges(call, scenarios_seen, tree_ok)
    return Propagation(options, active, measurements, quote_partial(spec, design), feasible)


def feasible(spec: ProductSpec, design: Any, stock: Mapping[str, Decimal] | None = None) -> bool:
    """`propagate(spec, design, stock).feasible` (some valid design agrees with every selection
    and entry), from the upward pass alone: a root with a row consistent with its subtree is
    what `propagate` calls a tree that is ok, and then its downward pass finds a full row in
    every cluster, the numeric one included, whose scenario is feasible."""
    cp = compiled(spec)
    call = _Call(cp, design, stock)
    up = call.upward(call.evidence(), call.scenarios_ok())
    if not all(up[k] for k, cl in enumerate(cp.clusters) if cl.parent is None):
        return False
    return bool(cp.numeric_scope) or call.scenario_feasible(0)


def drop_inactive(spec: ProductSpec, design: dict,
                  stock: Mapping[str, Decimal] | None = None) -> tuple[dict, Propagation]:
    """The design without the options and texts that do not apply (a waistcoat's buttons on a
    two-piece), and its propagation with `stock`. `design` has the three sections as dicts."""
    for _ in range(len(spec.options) + 1):
        prop = propagate(spec, design, stock)
        options = {k: v for k, v in design["options"].items() if prop.active.get(k) is not False}
        texts = {k: v for k, v in design["texts"].items() if spec.text(k) is None
                 or applies(spec, spec.text(k).when, options)}
        if options == design["options"] and texts == design["texts"]:
            break
        design = {**design, "options": options, "texts": texts}
    return design, prop


def _option_states(call: _Call, support, relaxed, tree_ok, numeric_ok):
    cp, spec = call.cp, call.spec
    base_numeric = cp.numeric_scope or numeric_ok.get(0, True)
    names = {cp.option_ids[i]: cp.values[i][v] for i, v in call.selected.items()}
    bad_trees = [t for t, good in tree_ok.items() if not good]
    options, active = {}, {}
    for i, option in enumerate(spec.options):
        tree = cp.clusters[cp.home[i]].tree
        others_ok = (not bad_trees or bad_trees == [tree]) and base_numeric
        possible = support[i] | relaxed[i]
        states = {}
        for v, choice in enumerate(option.choices):
            if not call.in_stock[i][v]:
                states[choice.id] = ChoiceState(
                    False, (Reason(OUT_OF_STOCK, f"{choice.label} is out of stock."),))
            elif others_ok and cp.class_of[i][v] in possible:
                states[choice.id] = AVAILABLE
            else:
                states[choice.id] = ChoiceState(False, explain=functools.partial(
                    excluding, call, i, v, support if others_ok else None))
        options[option.id] = states
        active[option.id] = _active(spec, option, names, states)
    return options, active


def _active(spec: ProductSpec, option, names: dict, states: dict) -> bool:
    """Does the option apply? Decided by the selections, or, while its condition is still
    open, by whether any of its choices can still be made."""
    when = option.when
    if when is None:
        return True
    if when.names() <= names.keys():
        return applies(spec, when, names)
    return any(s.available for s in states.values())


def _measurement_ranges(call: _Call, scenarios: set[int], tree_ok) -> dict[str, MeasurementRange]:
    cp, spec = call.cp, call.spec
    groups = range(len(cp.measurement_groups))
    feasible = {s: [call.group_ranges(g, cp.sub_scenarios[s][g], None) is not None for g in groups]
                for s in scenarios}
    out, subs_of = {}, {}
    for v, m in enumerate(spec.measurements):
        g = cp.group_of[v]
        relax = v if v in call.entered else None
        position = cp.measurement_groups[g].index(v)
        subs = subs_of.get(g)
        if subs is None:  # the same for every measurement of the group
            subs = subs_of[g] = {cp.sub_scenarios[s][g] for s, ok in feasible.items()
                                 if all(ok[k] for k in groups if k != g)}
        low = high = None
        for sub in subs:
            found = call.group_ranges(g, sub, relax)
            if found is not None:
                a, b = found[position]
                low = a if low is None else min(low, a)
                high = b if high is None else max(high, b)
        out[m.id] = MeasurementRange(_decimal(low, cp), _decimal(high, cp))
    return out


def _decimal(x: int | None, cp: Compiled) -> Decimal | None:
    """A grid value (whole numbers of the spec's unit) as people write it, worked out once."""
    if x is None:
        return None
    found = cp.decimals.get(x)
    if found is None:
        value = x * cp.unit
        found = cp.decimals[x] = plain_decimal(
            Decimal(value.numerator) / Decimal(value.denominator))
    return found
