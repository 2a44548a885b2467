"""Material stock: live levels beside the spec, and atomic reservations for orders."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal

from flask import current_app
from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from ..domain import Validation, bill_of_materials, validate
from ..domain.model import ProductSpec
from ..extensions import db, run_core
from ..models import MaterialStock
from . import batch, direct, remembered

QUANTUM = Decimal("0.0001")  # the precision of MaterialStock quantities

# The statements every propagate call and every order runs, built once (building a statement
# costs more CPU than running it): plain table columns, values bound at execution.
_STOCK = MaterialStock.__table__
_LEVELS = select(_STOCK.c.material_id, _STOCK.c.on_hand, _STOCK.c.reserved).where(
    _STOCK.c.product_id == bindparam("product_id"))
_LOCK_ROWS = (
    select(_STOCK.c.id, _STOCK.c.product_id, _STOCK.c.material_id, _STOCK.c.on_hand,
           _STOCK.c.reserved)
    .where(tuple_(_STOCK.c.product_id, _STOCK.c.material_id).in_(
        bindparam("keys", expanding=True)))
    .order_by(_STOCK.c.product_id, _STOCK.c.material_id)
    .with_for_update())


class InsufficientStock(Exception):
    """Not enough of one material is left; the order service turns this into `OutOfStock`."""

    def __init__(self, product_id: str, material_id: str, needed: Decimal, available: Decimal):
        self.product_id = product_id
        self.material_id = material_id
        self.needed = needed
        self.available = available
        super().__init__(
            f"{product_id}: material {material_id!r}: {needed} needed, {available} available")


def levels(spec: ProductSpec) -> dict[str, Decimal]:
    """Available quantity of each material of `spec` as the shop shows it; a pure read
    (unseeded rows count as the spec's initial stock).

    Each process reads them at most every STOCK_LEVELS_MAX_AGE seconds (1) and answers from
    what it read meanwhile: every shopper's every change asks, and the reads were about a
    tenth of the shop's CPU under load (docs/load.md). What the shop offers may lag the stock
    by that long; an order always checks the stock as it is, locked, and refuses with the
    field to change. A refusal for stock, and a restock, in this process read again at once.
    """
    read = remembered.recall("stock_levels", (spec.id, spec.version), "STOCK_LEVELS_MAX_AGE",
                             lambda: stored_levels(spec))
    return dict(read)  # callers change their copy (`levels_for`)


def forget_levels(product_id: str) -> None:
    """Read `product_id`'s levels again at the next ask (its stock is known to have changed)."""
    remembered.forget("stock_levels", lambda key: key[0] == product_id)


def stored_levels(spec: ProductSpec) -> dict[str, Decimal]:
    """`levels` as stored at this moment (never from what was read before)."""
    rows = direct.rows(_LEVELS, {"product_id": spec.id})
    live = {row.material_id: row.on_hand - row.reserved for row in rows}
    return {m.id: Decimal(live.get(m.id, m.stock)) for m in spec.materials}


def levels_for(spec: ProductSpec, design: dict,
               checked: Validation | None = None) -> dict[str, Decimal]:
    """Live levels as the engine should see them for `design`: once the design is complete, a
    material with less left than it needs counts as none, so the shop never offers what the
    order would then refuse. `checked`: the design's validation, when the caller has it."""
    live = levels(spec)
    if (checked or validate(spec, design)).valid:
        for line in bill_of_materials(spec, design):
            if live.get(line.material, Decimal(0)) < round_up(line.quantity):
                live[line.material] = Decimal(0)
    return live


def ensure_stock(spec: ProductSpec) -> bool:
    """Create the missing MaterialStock rows of `spec` from its initial `stock` values; True
    when every row was there already."""
    existing = set(db.session.execute(
        select(MaterialStock.material_id).where(MaterialStock.product_id == spec.id)).scalars())
    missing = [material for material in spec.materials if material.id not in existing]
    for material in missing:
        _insert_row(spec.id, material.id, Decimal(material.stock))
    return not missing


def ensure_stock_once(spec: ProductSpec) -> None:
    """`ensure_stock`, skipped once this app has found every row of this spec version there
    (rows are never deleted): one query less for each order. Rows this call creates do not
    count until a later call finds them: they are not committed yet, and other orders running
    now would skip the check and find no stock."""
    seen = current_app.extensions.setdefault("stock_rows_ensured", set())
    if spec.version not in seen and ensure_stock(spec):
        seen.add(spec.version)


def _insert_row(product_id: str, material_id: str, on_hand: Decimal) -> None:
    # A concurrent order may seed the same row: the savepoint lets us keep theirs.
    try:
        with db.session.begin_nested():
            db.session.add(MaterialStock(
                product_id=product_id, material_id=material_id, on_hand=on_hand,
                reserved=Decimal(0)))
    except IntegrityError:
        pass


def reserve(spec: ProductSpec, needs: Mapping[str, Decimal]) -> None:
    """Reserve `needs` (material id -> quantity) of one product, or raise InsufficientStock."""
    ensure_stock(spec)
    reserve_many({(spec.id, material_id): quantity for material_id, quantity in needs.items()})


def reserve_many(needs: Mapping[tuple[str, str], Decimal]) -> None:
    """Reserve an order's materials, (product id, material id) -> quantity, all or none: raise
    InsufficientStock for the first that is short. The rows must exist (`ensure_stock`).

    One SELECT ... FOR UPDATE locks the rows in a fixed order (product, material), so
    concurrent orders queue instead of deadlocking, and reads them as they are once locked
    (PostgreSQL re-reads a row after waiting for its lock, even in READ COMMITTED); then one
    batched UPDATE writes them. Two orders racing for the last metre cannot both win. The locks
    hold until the caller's transaction ends, so the caller commits soon after.
    """
    wanted = wanted_quantities(needs)
    if not wanted:
        return
    rows = run_core(_LOCK_ROWS, {"keys": list(wanted)}).all()
    # one statement: the rows are ours until the commit
    batch.set_values(_STOCK.c.reserved, reserved_after(wanted, rows))


def wanted_quantities(needs: Mapping[tuple[str, str], Decimal]) -> dict[tuple[str, str], Decimal]:
    """What to reserve of each (product, material), rounded up to what stock counts in."""
    wanted = {key: round_up(quantity) for key, quantity in needs.items()}
    return {key: quantity for key, quantity in wanted.items() if quantity > 0}


def reserved_after(wanted: Mapping[tuple[str, str], Decimal], locked) -> dict[int, Decimal]:
    """Each locked stock row's reservation with `wanted` added (by row id); InsufficientStock
    for the first material, in (product, material) order, with less left than wanted."""
    found = {(row.product_id, row.material_id): row for row in locked}
    for key in sorted(wanted):
        row = found.get(key)
        available = row.on_hand - row.reserved if row is not None else Decimal(0)
        if available < wanted[key]:
            raise InsufficientStock(key[0], key[1], wanted[key], available)
    return {found[key].id: found[key].reserved + quantity for key, quantity in wanted.items()}


def set_on_hand(spec: ProductSpec, material_id: str, on_hand: Decimal) -> None:
    """Set the stock on hand of one material (demo data, restocking); the caller commits."""
    forget_levels(spec.id)
    ensure_stock(spec)
    db.session.execute(
        update(MaterialStock)
        .where(MaterialStock.product_id == spec.id, MaterialStock.material_id == material_id)
        .values(on_hand=on_hand)
        .execution_options(synchronize_session=False))


def round_up(quantity: Decimal) -> Decimal:
    return Decimal(quantity).quantize(QUANTUM, rounding=ROUND_CEILING)
