"""Why a choice is excluded: the rules a live update names under an unavailable choice.

Worked out only when the reasons are read (`results.ChoiceState`), from the state of the
`engine.propagate` call that excluded the choice (`call`: its compiled spec, selections, stock
and measurement bounds).
"""
from __future__ import annotations

from . import numeric
from .results import Reason


def excluding(call, var: int, value: int, support) -> tuple[Reason, ...]:
    """The rules that exclude a choice.

    First the rules with no row for it that fits the selections, the stock and the entries: a
    shawl collar's rule on flap pockets once the shawl collar is chosen. Failing those, the
    rules whose every row for it needs a partner that is no longer possible (`support`, given
    when the rest of the design is feasible): a ticket pocket's rule that it needs flap pockets
    once the shawl collar has ruled them out. That partner then shows its own reason. Failing
    both, the choice is excluded by several rules together, and says so."""
    found = _blaming(call, var, value, None)
    if not found and support is not None:
        found = _blaming(call, var, value, support)
    if not found:
        found = [Reason("combination",
                        "Not possible together with your other choices and measurements.")]
    return tuple(dict.fromkeys(found))


def _blaming(call, var: int, value: int, support) -> list[Reason]:
    cp = call.cp
    found = []
    for t in cp.var_tables[var]:
        table = cp.tables[t]
        if table.rule_id is None:
            continue
        rows = table.by_value.get((var, value), ())
        if not any(_row_fits(call, table, row, atoms, var, support) for row, atoms in rows):
            found.append(Reason(table.rule_id, table.message))
    return found


def _row_fits(call, table, row, atoms, var: int, support) -> bool:
    """Does this row of the rule's table allow the choice, given the selections (and, with
    `support`, only partners that are still possible)?"""
    selected, in_stock, class_of = call.selected, call.in_stock, call.cp.class_of
    for s, v in zip(table.scope, row):
        if s == var:
            continue
        if s in selected:
            if selected[s] != v and not (call.cp.values[s][v] is None
                                         and call.spec.options[s].when is not None):
                return False
        elif not in_stock[s][v] or (support is not None and class_of[s][v] not in support[s]):
            return False
    if not atoms:
        return True
    return all(_atom_possible(call, call.cp.linears[a]) for a in atoms)


def _atom_possible(call, linear: numeric.Linear) -> bool:
    lo, hi = call.fixed_bounds()
    return sum(a * (hi[v] if a > 0 else lo[v]) for v, a in linear.terms) >= linear.bound
