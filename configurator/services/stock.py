"""Material stock: live levels beside the spec, and atomic reservations for orders."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..domain import bill_of_materials, validate
from ..domain.model import ProductSpec
from ..extensions import db
from ..models import MaterialStock

QUANTUM = Decimal("0.0001")  # the precision of MaterialStock quantities


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
    """Available quantity of each material of `spec`; a pure read (unseeded rows count as the
    spec's initial stock)."""
    rows = db.session.execute(
        select(MaterialStock).where(MaterialStock.product_id == spec.id)).scalars()
    live = {row.material_id: row.available for row in rows}
    return {m.id: Decimal(live.get(m.id, m.stock)) for m in spec.materials}


def levels_for(spec: ProductSpec, design: dict) -> dict[str, Decimal]:
    """Live levels as the engine should see them for `design`: once the design is complete, a
    material with less left than it needs counts as none, so the shop never offers what the
    order would then refuse."""
    live = levels(spec)
    if validate(spec, design).valid:
        for line in bill_of_materials(spec, design):
            if live.get(line.material, Decimal(0)) < round_up(line.quantity):
                live[line.material] = Decimal(0)
    return live


def ensure_stock(spec: ProductSpec) -> None:
    """Create the missing MaterialStock rows of `spec` from its initial `stock` values."""
    existing = set(db.session.execute(
        select(MaterialStock.material_id).where(MaterialStock.product_id == spec.id)).scalars())
    for material in spec.materials:
        if material.id not in existing:
            _insert_row(spec.id, material.id, Decimal(material.stock))


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
    """Reserve `needs` (material id -> quantity) atomically, or raise InsufficientStock.

    Each row is changed by one conditional UPDATE, so two orders racing for the last metre
    cannot both win (PostgreSQL re-checks the condition after the row lock). Rows are taken in
    a fixed order so concurrent orders never deadlock. The caller's transaction holds it all.
    """
    ensure_stock(spec)
    for material_id in sorted(needs):
        quantity = round_up(needs[material_id])
        if quantity > 0:
            _reserve_one(spec.id, material_id, quantity)


def _reserve_one(product_id: str, material_id: str, quantity: Decimal) -> None:
    result = db.session.execute(
        update(MaterialStock)
        .where(MaterialStock.product_id == product_id,
               MaterialStock.material_id == material_id,
               MaterialStock.on_hand - MaterialStock.reserved >= quantity)
        .values(reserved=MaterialStock.reserved + quantity)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        row = db.session.execute(select(MaterialStock).where(
            MaterialStock.product_id == product_id,
            MaterialStock.material_id == material_id)).scalar_one_or_none()
        available = row.available if row is not None else Decimal(0)
        raise InsufficientStock(product_id, material_id, quantity, available)


def set_on_hand(spec: ProductSpec, material_id: str, on_hand: Decimal) -> None:
    """Set the stock on hand of one material (demo data, restocking); the caller commits."""
    ensure_stock(spec)
    db.session.execute(
        update(MaterialStock)
        .where(MaterialStock.product_id == spec.id, MaterialStock.material_id == material_id)
        .values(on_hand=on_hand)
        .execution_options(synchronize_session=False))


def round_up(quantity: Decimal) -> Decimal:
    return Decimal(quantity).quantize(QUANTUM, rounding=ROUND_CEILING)
