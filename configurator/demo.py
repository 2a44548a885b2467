"""Demo data: live stock for every material, and a few orders placed through the real service,
so a newcomer sees the shop, the tracking pages and the planner with something in them."""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import click
from sqlalchemy import inspect, select

from .domain import propagate
from .domain.validation import applies
from .domain.model import ProductSpec
from .extensions import db
from .models import GroupOrder, Order
from .models._types import utcnow
from .services import stock
from .services.groups import (GroupSettings, MemberDetails, create_group, join_group,
                              suggested_member_options)
from .services.orders import CustomerDetails, OrderRejected, UnitRequest, place_order
from .specs_registry import catalog

DEMO_EMAIL = "demo.customer@example.com"


@dataclass(frozen=True)
class DemoUnit:
    product_id: str
    label: str
    choices: dict


DEMO_ORDERS = (
    ("Ana Sousa", "Rua das Flores 12\n4050-262 Porto\nPortugal", (
        DemoUnit("suit", "for Ana", {}),
        DemoUnit("suit", "for Rui", {"pieces": "three"}))),
    ("Jonas Weber", "Kastanienallee 5\n10435 Berlin\nGermany", (
        DemoUnit("washing-machine", "", {}),)),
    ("Claire Martin", "12 rue des Lilas\n69003 Lyon\nFrance", (
        DemoUnit("shirt", "", {}), DemoUnit("shirt", "", {}))),
)


def example_design(spec: ProductSpec, choices: dict | None = None) -> dict:
    """A valid design found through the engine: the given choices where possible, else the
    defaults or the first possible choice; each measurement near its typical value."""
    design: dict = {"options": {}, "measurements": {}, "texts": {}}
    for option in spec.options:
        prop = propagate(spec, design)
        if not prop.active.get(option.id, True):
            continue
        states = prop.options[option.id]
        wanted = (choices or {}).get(option.id, option.default)
        if wanted not in states or not states[wanted].available:
            wanted = next(c for c, state in states.items() if state.available)
        design["options"][option.id] = wanted
    for m in spec.measurements:
        allowed = propagate(spec, design).measurements[m.id]
        target = m.typical if m.typical is not None else (allowed.min + allowed.max) / 2
        target = min(max(Decimal(target), allowed.min), allowed.max)
        value = max(m.min + ((target - m.min) // m.step) * m.step, allowed.min)
        design["measurements"][m.id] = int(value) if value == int(value) else float(value)
    for t in spec.texts:
        if t.required and applies(spec, t.when, design["options"]):
            char = next(c for c in string.ascii_uppercase + string.digits
                        if re.fullmatch(f"[{t.allowed}]", c))
            design["texts"][t.id] = char * min(2, t.max_length)
    return design


def seed_stock() -> int:
    """Create the live stock rows of every material from the specs; returns how many exist."""
    count = 0
    for spec in catalog().products.values():
        stock.ensure_stock(spec)
        count += len(spec.materials)
    db.session.commit()
    return count


def place_demo_orders() -> list[Order]:
    """Place the demo orders once (skipped when they are already there)."""
    exists = db.session.execute(select(Order.id).where(Order.email == DEMO_EMAIL)).first()
    if exists is not None:
        return []
    placed = []
    for name, address, units in DEMO_ORDERS:
        requests = [UnitRequest(u.product_id, example_design(
            catalog().products[u.product_id], u.choices), u.label)
            for u in units if u.product_id in catalog().products]
        if requests:
            placed.append(place_order(CustomerDetails(name, DEMO_EMAIL, address), requests))
    return placed


@click.command("demo-data")
def demo_data_command() -> None:
    """Seed material stock and place a few demo orders (safe to run twice)."""
    from flask import current_app, url_for

    materials = seed_stock()
    click.echo(f"stock: {materials} materials")
    try:
        orders = place_demo_orders()
    except OrderRejected as exc:
        raise click.ClickException(f"a demo order was refused: {exc}")
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        for order in orders:
            link = url_for("shop.track", token=order.tracking_token, _external=True)
            count = len(order.units)
            click.echo(f"order {order.reference} ({count} unit{'' if count == 1 else 's'}): {link}")
    if not orders:
        click.echo("demo orders already there")
    group = ensure_demo_group()
    if group is not None:
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
            click.echo("group order (organiser): " + url_for(
                "groups.organiser", token=group.organiser_token, _external=True))
    from .cli_users import ensure_demo_planner  # the planner console's demo login (issue 4)

    if ensure_demo_planner():
        click.echo("planner login: planner@example.com / planner-demo-1")


DEMO_GROUP_TITLE = "Marta and Tiago's wedding (demo)"


def ensure_demo_group() -> GroupOrder | None:
    """An open suit group with two members, one blocked by a swapped measurement (once)."""
    spec = catalog().products.get("suit")
    if spec is None or not inspect(db.engine).has_table(GroupOrder.__tablename__):
        return None  # before the migration that adds group orders
    exists = db.session.execute(select(GroupOrder.id).where(GroupOrder.title == DEMO_GROUP_TITLE))
    if exists.first() is not None:
        return None
    design = example_design(spec, {"fabric": "charcoal-plain-s110", "lapel": "notch"})
    group = create_group(spec, design, GroupSettings(
        DEMO_GROUP_TITLE, "Marta Reis", DEMO_EMAIL, 5,
        (utcnow() + timedelta(days=30)).date()), suggested_member_options(spec))
    join_group(group, MemberDetails("Tiago", DEMO_EMAIL, label="groom"), design)
    swapped = {**design["measurements"], "sleeve": design["measurements"]["shoulder_to_elbow"],
               "shoulder_to_elbow": design["measurements"]["sleeve"]}
    join_group(group, MemberDetails("Pedro", DEMO_EMAIL, label="best man"),
               {**design, "measurements": swapped})
    return group
