"""Hand work orders to the renderer. The order service calls this after its commit."""
from __future__ import annotations

from collections.abc import Sequence


def enqueue_renders(unit_ids: Sequence[int], force: bool = False) -> None:
    """Render these units' work orders: in-process without a broker, on workers with one."""
    from .tasks import render_work_order

    for unit_id in unit_ids:
        render_work_order.delay(unit_id, force)
