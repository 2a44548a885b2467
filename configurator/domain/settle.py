"""Choices the shopper did not make give way to the ones they did.

A fresh design starts at the spec's defaults so it has a price and a picture, but the shopper
never chose those. When a choice they do make clashes with one of them (a three-piece with the
default belt loops), the default is changed to a choice that fits and the shopper is told why,
instead of their choice being shown as unavailable. What the shopper chose is never changed.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .engine import propagate
from .model import ProductSpec
from .results import Propagation


@dataclass(frozen=True)
class Change:
    option: str
    was: str
    now: str
    message: str  # "Waistband is now Side adjusters: A waistcoat is worn over the waistband..."


@dataclass(frozen=True)
class Settled:
    design: dict
    auto: dict[str, str]  # the options still at a value picked for the shopper
    changes: tuple[Change, ...]
    offered: Propagation | None  # the choices as offered: only the shopper's own selections held
    found: Propagation | None = None  # the returned design's own propagation, when worked out


def settle(spec: ProductSpec, design: dict, auto: Mapping[str, str],
           stock: Mapping[str, Decimal] | None = None,
           whole: Propagation | None = None) -> Settled:
    """Keep every option the shopper chose; change the picked-for-them ones that clash.

    `auto` maps option ids to the value picked for the shopper; an option whose value in the
    design differs from it was chosen by the shopper. Without picked options nothing changes and
    `offered` is None (the design's own propagation offers the same). `whole`: the design's
    propagation with `stock`, when the caller has it already.
    """
    options = design["options"]
    soft = {k: v for k, v in options.items() if isinstance(auto.get(k), str) and auto[k] == v}
    if not soft:
        return Settled(design, {}, (), None, whole)
    hard = {k: v for k, v in options.items() if k not in soft}
    offered = propagate(spec, {**design, "options": hard}, stock)
    whole = whole or propagate(spec, design, stock)
    if whole.feasible or not offered.feasible:
        return Settled(design, soft, (), offered, whole)
    kept, changes = _give_way(spec, design, hard, soft, offered, stock)
    picked = {k: v for k, v in kept.items() if k in soft}
    return Settled({**design, "options": kept}, picked, tuple(changes), offered)


def _give_way(spec, design, hard, soft, offered, stock) -> tuple[dict, list[Change]]:
    """Add the picked options one by one in spec order, each kept if it still fits."""
    kept, changes, prop = dict(hard), [], offered
    for option in spec.options:
        value = soft.get(option.id)
        if value is None:
            continue
        states = prop.options.get(option.id, {})
        if not prop.active.get(option.id, True):
            continue  # it stopped applying: dropped, like any option that does not apply
        if states.get(value) is not None and states[value].available:
            kept[option.id] = value
        else:
            now = _replacement(option, states)
            if now is None:
                continue  # nothing fits: leave it open, the page asks the shopper
            kept[option.id] = now
            changes.append(_change(option, value, now, states.get(value)))
        prop = propagate(spec, {**design, "options": kept}, stock)
    return kept, changes


def _replacement(option, states) -> str | None:
    fits = [c.id for c in option.choices if states.get(c.id) is not None and states[c.id].available]
    if option.default in fits:
        return option.default
    return fits[0] if fits else None


def _change(option, was: str, now: str, state) -> Change:
    why = state.reasons[0].message if state is not None and state.reasons else ""
    label = option.choice(now).label
    message = f"{option.label} is now {label}" + (f": {why}" if why else ".")
    return Change(option.id, was, now, message)
