"""Reads a web process may answer from for a second instead of asking the database again.

Each store is a dict in the app's extensions, key -> (when read, what was read), so test apps
and processes never share one. `recall` reads again once an answer is older than the setting's
max age (seconds; 0 reads every time); a read that raises is not remembered. `forget` drops
answers this process knows to be stale. Plain dict operations: safe with gthread workers.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")
MAX_ANSWERS = 1000  # answers a store holds before it starts afresh


def recall(store: str, key: Hashable, max_age_setting: str, read: Callable[[], T]) -> T:
    """What `read()` answered for `key` within the last `config[max_age_setting]` seconds, or
    its answer now."""
    max_age = current_app.config[max_age_setting]
    if not max_age:
        return read()
    known = current_app.extensions.setdefault(store, {})
    now = time.monotonic()
    found = known.get(key)
    if found is None or now - found[0] >= max_age:
        answer = read()
        if len(known) >= MAX_ANSWERS:
            known.clear()
        found = known[key] = (now, answer)
    return found[1]


def forget(store: str, which: Callable[[Hashable], bool] = lambda key: True) -> None:
    """Drop the remembered answers whose key `which` picks (all of them by default)."""
    known = current_app.extensions.get(store, {})
    for key in [key for key in list(known) if which(key)]:  # list(): other threads add
        known.pop(key, None)
