"""The steps a unit goes through: queued, each station of its routing in order, QC, packed, shipped."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

FINAL_STEPS = (("qc", "Quality control"), ("packed", "Packed"), ("shipped", "Shipped"))


def unit_steps(routing: Iterable[Mapping]) -> list[tuple[str, str]]:
    """(status, label) pairs in order; `routing` is a unit's stored routing snapshot."""
    steps = [("queued", "Queued")]
    seen = {"queued", *(s for s, _ in FINAL_STEPS)}
    for step in routing:
        if step["station"] not in seen:
            seen.add(step["station"])
            steps.append((step["station"], step["station_name"]))
    return steps + list(FINAL_STEPS)
