"""Exact reasoning over measurements: integer grids and linear constraints `sum(a*x) >= b`.

Bounds propagation does almost all the work. When the all-lowest and all-highest assignments
both satisfy every constraint (always the case for the difference constraints tailors write,
`sleeve - elbow >= 12`), the propagated bounds are exact. Otherwise a complete search by
domain splitting decides, so answers are exact for any linear constraints.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Terms = tuple[tuple[int, int], ...]  # (variable index, integer coefficient)


@dataclass(frozen=True)
class Linear:
    """sum(coefficient * x[variable]) >= bound, all integers."""
    terms: Terms
    bound: int

    def holds(self, values: Sequence[int]) -> bool:
        return sum(a * values[v] for v, a in self.terms) >= self.bound


@dataclass(frozen=True)
class Grid:
    """The values lo, lo + step, ... <= hi, in integer units."""
    lo: int
    hi: int
    step: int

    def up(self, value: int) -> int:
        """The smallest grid value >= value."""
        return self.lo + -((self.lo - value) // self.step) * self.step

    def down(self, value: int) -> int:
        """The largest grid value <= value."""
        return self.lo + ((value - self.lo) // self.step) * self.step


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def tighten(lo: list[int], hi: list[int], grids: Sequence[Grid],
            constraints: Sequence[Linear]) -> bool:
    """Bounds propagation to a fixpoint, in place; False when some domain empties."""
    changed = True
    while changed:
        changed = False
        for c in constraints:
            top = 0
            for v, a in c.terms:
                top += a * (hi[v] if a > 0 else lo[v])
            if top < c.bound:
                return False
            for v, a in c.terms:
                rest = top - a * (hi[v] if a > 0 else lo[v])
                need = c.bound - rest
                if a > 0:
                    new = grids[v].up(_ceil_div(need, a))
                    if new > lo[v]:
                        if new > hi[v]:
                            return False
                        lo[v] = new
                        changed = True
                else:  # a < 0:  a*x >= need  <=>  x <= floor(need / a)
                    new = grids[v].down(need // a)
                    if new < hi[v]:
                        if new < lo[v]:
                            return False
                        hi[v] = new
                        changed = True
    return True


def _all_hold(values: Sequence[int], constraints: Sequence[Linear]) -> bool:
    return all(c.holds(values) for c in constraints)


def solve(lo: list[int], hi: list[int], grids: Sequence[Grid],
          constraints: Sequence[Linear]) -> list[int] | None:
    """One solution within [lo, hi] (copies are made), or None."""
    lo, hi = list(lo), list(hi)
    if not tighten(lo, hi, grids, constraints):
        return None
    if _all_hold(lo, constraints):
        return lo
    if _all_hold(hi, constraints):
        return hi
    v = max((i for i in range(len(lo)) if lo[i] < hi[i]), key=lambda i: hi[i] - lo[i],
            default=None)
    if v is None:
        return None
    mid = grids[v].down((lo[v] + hi[v]) // 2)
    left_hi = hi.copy()
    left_hi[v] = mid
    found = solve(lo, left_hi, grids, constraints)
    if found is not None:
        return found
    right_lo = lo.copy()
    right_lo[v] = grids[v].up(mid + 1)
    return solve(right_lo, hi, grids, constraints)


def _components(lo: list[int], hi: list[int], constraints: Sequence[Linear]):
    """Substitute fixed variables, then split the free ones into independent groups.

    Yields (variables, constraints over them); None as the only item when a constraint on
    fixed variables alone fails."""
    free = [v for v in range(len(lo)) if lo[v] < hi[v]]
    parent = {v: v for v in free}

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v
    reduced = []
    for c in constraints:
        terms = tuple((v, a) for v, a in c.terms if v in parent)
        bound = c.bound - sum(a * lo[v] for v, a in c.terms if v not in parent)
        if not terms:
            if bound > 0:
                return None
            continue
        reduced.append(Linear(terms, bound))
        for v, _ in terms[1:]:
            parent[find(v)] = find(terms[0][0])
    groups: dict[int, tuple[list[int], list[Linear]]] = {}
    for v in free:
        groups.setdefault(find(v), ([], []))[0].append(v)
    for c in reduced:
        groups[find(c.terms[0][0])][1].append(c)
    return [g for g in groups.values() if g[1]]


def _component_ranges(variables: list[int], lo: list[int], hi: list[int], grids: Sequence[Grid],
                      constraints: list[Linear]) -> list[tuple[int, int]] | None:
    index = {v: i for i, v in enumerate(variables)}
    local = [Linear(tuple((index[v], a) for v, a in c.terms), c.bound) for c in constraints]
    sub_lo, sub_hi = [lo[v] for v in variables], [hi[v] for v in variables]
    sub_grids = [grids[v] for v in variables]
    if _all_hold(sub_lo, local) and _all_hold(sub_hi, local):
        return list(zip(sub_lo, sub_hi))
    if solve(sub_lo, sub_hi, sub_grids, local) is None:
        return None
    return [(_extreme(i, sub_lo, sub_hi, sub_grids, local, lowest=True),
             _extreme(i, sub_lo, sub_hi, sub_grids, local, lowest=False))
            for i in range(len(variables))]


def ranges(lo: list[int], hi: list[int], grids: Sequence[Grid], constraints: Sequence[Linear],
           memo: dict | None = None) -> list[tuple[int, int]] | None:
    """Exact (min, max) of every variable over all solutions, or None if there is none.

    Independent groups of free variables are solved apart and remembered in `memo`, which
    callers share between closely related questions (scenarios, relaxed entries)."""
    lo, hi = list(lo), list(hi)
    if not tighten(lo, hi, grids, constraints):
        return None
    groups = _components(lo, hi, constraints)
    if groups is None:
        return None
    result = list(zip(lo, hi))
    memo = {} if memo is None else memo
    for variables, group in groups:
        key = (tuple(variables), tuple(group), tuple(lo[v] for v in variables),
               tuple(hi[v] for v in variables))
        if key not in memo:
            memo[key] = _component_ranges(variables, lo, hi, grids, group)
        found = memo[key]
        if found is None:
            return None
        for v, bounds in zip(variables, found):
            result[v] = bounds
    return result


def _extreme(v: int, lo: list[int], hi: list[int], grids: Sequence[Grid],
             constraints: Sequence[Linear], lowest: bool) -> int:
    """The least (or greatest) value of x[v] in any solution: first try the propagated bound,
    then binary search on the grid (feasibility of x[v] <= t is monotone in t)."""
    grid = grids[v]
    bound = lo[v] if lowest else hi[v]
    fixed_lo, fixed_hi = list(lo), list(hi)
    fixed_lo[v] = fixed_hi[v] = bound
    if solve(fixed_lo, fixed_hi, grids, constraints) is not None:
        return bound
    a, b = lo[v], hi[v]  # invariant: the answer lies in [a, b]
    while a < b:
        mid = grid.down((a + b) // 2) if lowest else grid.up((a + b + 1) // 2)
        bounded_lo, bounded_hi = list(lo), list(hi)
        if lowest:
            bounded_hi[v] = mid
        else:
            bounded_lo[v] = mid
        feasible = solve(bounded_lo, bounded_hi, grids, constraints) is not None
        if lowest:
            a, b = (a, mid) if feasible else (grid.up(mid + 1), b)
        else:
            a, b = (mid, b) if feasible else (a, grid.down(mid - 1))
    return a
