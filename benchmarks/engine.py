"""Time `propagate` on the shipped suit over realistic partial designs, compute the same answers
with OR-Tools CP-SAT on the same compiled model, check they are identical, and print median and
p99 per call, the ratio, and the memory of a process holding every shipped product.

Run: ./dev bench engine   (or: python -m benchmarks engine)
"""
from __future__ import annotations

import gc
import random
import resource
import statistics
import time
import tracemalloc
from pathlib import Path

from configurator.domain.compile import compiled
from configurator.domain.engine import propagate
from configurator.domain.loader import load_specs

SPECS = Path(__file__).resolve().parent.parent / "specs"
DESIGNS = 200
CPSAT_DESIGNS = 40


def realistic_designs(spec, count: int, seed: int = 1) -> list[dict]:
    """States a shopper passes through: options picked among what is shown possible, then
    measurements typed within the ranges shown, sampled along many such walks."""
    rnd = random.Random(seed)
    states = []
    while len(states) < count:
        design = {"options": {}, "measurements": {}}
        steps = [("o", o) for o in spec.options] + [("m", m) for m in spec.measurements]
        for kind, item in steps:
            state = propagate(spec, design)
            if kind == "o" and state.active[item.id]:
                possible = [c for c, s in state.options[item.id].items() if s.available]
                if possible and rnd.random() < 0.8:
                    design["options"][item.id] = rnd.choice(possible)
            elif kind == "m" and rnd.random() < 0.7:
                r = state.measurements[item.id]
                if r.min is not None:
                    k = rnd.randint(0, int((r.max - r.min) / item.step))
                    design["measurements"][item.id] = float(r.min + item.step * k)
            if rnd.random() < 0.25:
                states.append({"options": dict(design["options"]),
                               "measurements": dict(design["measurements"])})
    return states[:count]


class CpSatModel:
    """The compiled spec as a CP-SAT model: option value indices, measurement grid indices,
    grounded rule tables as allowed assignments, measurement inequalities enforced per row."""

    def __init__(self, spec):
        from ortools.sat.python import cp_model

        self.cp_model = cp_model
        self.cp = compiled(spec)
        self.spec = spec

    def build(self, design: dict, fixed_option=None,  # noqa: C901  (one model, built whole)
              relax_measurement=None):
        cm, cp = self.cp_model, self.cp
        model = cm.CpModel()
        opt = [model.NewIntVar(0, len(vals) - 1, f"o{i}") for i, vals in enumerate(cp.values)]
        lit = [[model.NewBoolVar(f"o{i}={j}") for j in range(len(vals))]
               for i, vals in enumerate(cp.values)]
        for i, row in enumerate(lit):
            model.AddExactlyOne(row)
            for j, b in enumerate(row):
                model.Add(opt[i] == j).OnlyEnforceIf(b)
        x = []
        for v, g in enumerate(cp.grids):
            k = model.NewIntVar(0, (g.hi - g.lo) // g.step, f"k{v}")
            xv = model.NewIntVar(g.lo, g.hi, f"x{v}")
            model.Add(xv == g.lo + g.step * k)
            x.append(xv)
        for table in cp.tables:
            model.AddAllowedAssignments([opt[s] for s in table.scope], list(table.rows))
            for row, atoms in table.rows.items():
                for a in atoms:
                    self._linear(model, x, cp.linears[a],
                                 [lit[s][j] for s, j in zip(table.scope, row)])
        for a in cp.base_atoms:
            self._linear(model, x, cp.linears[a], [])
        selections = {k: v for k, v in design["options"].items() if k in cp.option_index}
        for oid, choice in selections.items():
            i = cp.option_index[oid]
            if oid == fixed_option:
                continue
            allowed = [cp.value_index[i][choice]]
            if self.spec.option(oid).when is not None:
                allowed.append(cp.value_index[i][None])
            model.AddAllowedAssignments([opt[i]], [(a,) for a in allowed])
        for mid, value in design["measurements"].items():
            if mid != relax_measurement:
                v = cp.measurement_index[mid]
                model.Add(x[v] == round(value / float(cp.unit)))
        return model, opt, x

    @staticmethod
    def _linear(model, x, linear, enforce):
        constraint = model.Add(sum(a * x[v] for v, a in linear.terms) >= linear.bound)
        if enforce:
            constraint.OnlyEnforceIf(enforce)

    def answers(self, design: dict) -> tuple[dict, dict]:
        cm, cp = self.cp_model, self.cp
        solver = cm.CpSolver()
        solver.parameters.num_workers = 1
        options = {}
        for i, option in enumerate(self.spec.options):
            options[option.id] = {}
            for choice in option.choices:
                model, opt, _ = self.build(design, fixed_option=option.id)
                model.Add(opt[i] == cp.value_index[i][choice.id])
                status = solver.Solve(model)
                options[option.id][choice.id] = status in (cm.OPTIMAL, cm.FEASIBLE)
        ranges = {}
        for v, m in enumerate(self.spec.measurements):
            bounds = []
            for sense in (1, -1):
                model, _, x = self.build(design, relax_measurement=m.id)
                model.Minimize(sense * x[v])
                status = solver.Solve(model)
                bounds.append(solver.Value(x[v]) if status == cm.OPTIMAL else None)
            ranges[m.id] = tuple(None if b is None else b * cp.unit for b in bounds)
        return options, ranges


def _engine_answers(spec, design) -> tuple[dict, dict]:
    result = propagate(spec, design)
    options = {o: {c: s.available for c, s in ch.items()} for o, ch in result.options.items()}
    ranges = {m: (r.min, r.max) for m, r in result.measurements.items()}
    return options, ranges


def _same(engine, cpsat) -> bool:
    options_e, ranges_e = engine
    options_c, ranges_c = cpsat
    ranges_ok = all(tuple(None if b is None else float(b) for b in ranges_e[m]) ==
                    tuple(None if b is None else float(b) for b in ranges_c[m]) for m in ranges_e)
    return options_e == options_c and ranges_ok


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def _shown(spec, design):
    """What the shopper is shown: the propagation with every excluded choice's reasons, which
    the engine works out only when they are read."""
    result = propagate(spec, design)
    for choices in result.options.values():
        for state in choices.values():
            if not state.available:
                state.reasons
    return result


def memory_of_all_products() -> tuple[float, float]:
    """(MiB allocated by loading and compiling every shipped product, peak RSS MiB)."""
    gc.collect()
    tracemalloc.start()
    catalog = load_specs(SPECS)
    for spec in catalog.products.values():
        compiled(spec)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current / 2**20, rss


def main() -> None:
    spec = load_specs(SPECS).products["suit"]
    compiled(spec)
    designs = realistic_designs(spec, DESIGNS)
    for design in designs[:20]:  # warm caches the way a running server has them
        _shown(spec, design)
    times = []
    for design in designs:
        start = time.perf_counter()
        _shown(spec, design)
        times.append(time.perf_counter() - start)
    median, p99 = statistics.median(times) * 1000, _percentile(times, 0.99) * 1000
    print(f"propagate on the suit: {len(designs)} realistic partial designs")
    print(f"  engine  median {median:.3f} ms   p99 {p99:.3f} ms")
    try:
        model = CpSatModel(spec)
    except ImportError:
        print("  CP-SAT: ortools is not installed (pip install -e '.[dev]'); skipped")
    else:
        cp_times, mismatches = [], 0
        for design in designs[:CPSAT_DESIGNS]:
            start = time.perf_counter()
            cpsat = model.answers(design)
            cp_times.append(time.perf_counter() - start)
            mismatches += not _same(_engine_answers(spec, design), cpsat)
        cp_median = statistics.median(cp_times) * 1000
        cp_p99 = _percentile(cp_times, 0.99) * 1000
        print(f"  CP-SAT  median {cp_median:.1f} ms   p99 {cp_p99:.1f} ms "
              f"({CPSAT_DESIGNS} designs, one solve per choice and per range bound)")
        print(f"  ratio   {cp_median / median:.0f}x faster than CP-SAT   "
              f"answers identical: {CPSAT_DESIGNS - mismatches}/{CPSAT_DESIGNS}")
    allocated, rss = memory_of_all_products()
    print(f"memory: all shipped products loaded and compiled: {allocated:.1f} MiB allocated; "
          f"process peak RSS {rss:.0f} MiB")
    print(f"targets: median <= 1 ms ({'met' if median <= 1 else 'NOT met'}), >= 20x CP-SAT")


if __name__ == "__main__":
    main()
