"""Hand work orders to the renderer. Owned by the work-order area; the order service calls it."""
from __future__ import annotations

from collections.abc import Sequence


def enqueue_renders(unit_ids: Sequence[int]) -> None:
    """Render the work orders of these units in the background (after their order committed)."""
    # Placeholder until the Celery task lands: rendering is then in-process or on workers.
