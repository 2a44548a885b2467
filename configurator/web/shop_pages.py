"""What the shop's pages show, as plain values for the templates, and the shopper's cart.

The views in `shop.py` stay thin by calling these; the engine decides every state shown here.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from flask import session, url_for
from flask_wtf import FlaskForm

from ..domain import propagate, validate
from ..domain.engine import drop_inactive, feasible, sold_out
from ..domain.model import ProductSpec
from ..domain.settle import Settled, settle
from ..domain.validation import applies
from ..preview import render_preview
from ..services import drafts, orders, stock
from ..services.progress import unit_steps
from ..specs_registry import catalog, spec_for_version
from . import shop_fragments as fragments
from .forms import (OPTION_PREFIX, TEXT_PREFIX, attach_violations,
                    design_from_form)

MAX_CART_UNITS = 20
SHOW_NONE, SHOW_ENTERED, SHOW_ALL = "none", "entered", "all"


# -- catalog --------------------------------------------------------------------------------

def from_price(spec: ProductSpec) -> Decimal:
    """The lowest price a design can start at: the base plus the cheapest choice of each
    option every design must take (surcharges only ever add)."""
    price = spec.base_price
    for option in spec.options:
        if option.required and option.when is None and option.choices:
            price += min(c.price for c in option.choices)
    return price


def catalog_entries() -> list[dict]:
    return [{"id": s.id, "name": s.name, "description": s.description, "currency": s.currency,
             "from_price": from_price(s), "image": s.image,
             "url": url_for("shop.configure", product_id=s.id)}
            for s in catalog().products.values()]


# -- the configurator -----------------------------------------------------------------------

def clean_token(token: object) -> str | None:
    return token if isinstance(token, str) and drafts.TOKEN_PATTERN.fullmatch(token) else None


def default_design(spec: ProductSpec) -> dict:
    options = {o.id: o.default for o in spec.options if o.default and o.when is None}
    return {"options": options, "measurements": {}, "texts": {}}


def starting_point(spec: ProductSpec, args: Mapping) -> drafts.Start:
    """A fresh design, a draft (`?draft=`) or a unit of an earlier order (`?order=&unit=`)."""
    start = None
    if args.get("draft"):
        start = drafts.start_from_draft(args.get("draft"))
    elif args.get("order"):
        start = drafts.start_from_unit(args.get("order"), args.get("unit"))
    if start is None or start.product_id != spec.id:
        return drafts.Start(spec.id, default_design(spec))
    return start


def picked_for_shopper(spec: ProductSpec, start: drafts.Start) -> dict[str, str]:
    """A fresh design's options were picked by us (the spec's defaults), not by the shopper."""
    fresh = start.parent_token is None and start.design == default_design(spec)
    return dict(start.design["options"]) if fresh else {}


def parse_picked(raw: object, spec: ProductSpec) -> dict[str, str]:
    """The `auto` field the page sends back: {option id: value we picked}; junk counts as {}."""
    try:
        value = json.loads(raw) if isinstance(raw, str) and len(raw) < 10_000 else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items()
            if isinstance(v, str) and spec.option(k) is not None and spec.option(k).choice(v)}


def prune_inactive(spec: ProductSpec, design: dict) -> dict:
    """Drop the options and texts that do not apply (a waistcoat's buttons on a two-piece)."""
    if not design["texts"] and all(spec.option(k) is None or spec.option(k).when is None
                                   for k in design["options"]):
        return design  # nothing in it can stop applying (a fresh page: the defaults)
    return drop_inactive(spec, design)[0]


@dataclass
class Outcome:
    page: dict | None = None
    redirect: str | None = None
    message: str = ""


def submit_design(spec: ProductSpec, form: FlaskForm, action: str, parent: str | None,
                  picked: Mapping[str, str]) -> Outcome:
    """Handle the configurator's buttons: update, save a draft, add to the order."""
    parsed = form.validate()
    design = prune_inactive(spec, design_from_form(spec, form))
    checked = validate(spec, design)
    levels = stock.levels_for(spec, design, checked)
    settled = settle(spec, design, picked, levels)
    if settled.changes:  # show what we changed before saving or ordering anything
        return Outcome(page=design_page(spec, design, form, SHOW_ENTERED, settled=settled))
    if parsed and action == "save":
        draft = drafts.save_draft(spec, design, parent)
        return Outcome(redirect=url_for("shop.draft", token=draft.token),
                       message="Draft saved. Anyone with this page's link can open the design.")
    if parsed and action == "add":
        problems = _order_problems(spec, design, checked, levels, settled.found)
        if not problems and len(cart()) < MAX_CART_UNITS:
            draft = drafts.save_draft(spec, design, parent)
            add_to_cart(draft.token, form.label.data or "")
            return Outcome(redirect=url_for("shop.order"),
                           message=f"{spec.name} added to your order.")
        general = [] if problems else [
            f"An order holds {MAX_CART_UNITS} units at most; place this one first."]
        return Outcome(page=design_page(spec, design, form, SHOW_ALL, general, settled=settled))
    return Outcome(page=design_page(spec, design, form, SHOW_ALL if action == "add"
                                    else SHOW_ENTERED, settled=settled))


def _order_problems(spec: ProductSpec, design: dict, checked, levels, found=None) -> list:
    """What stops `design` being ordered, from its validation and its live stock `levels`;
    `found`: its propagation with those levels, if known."""
    if not checked.valid:
        return list(checked.violations)
    ok = found.feasible if found is not None else feasible(spec, design, stock=levels)
    return [] if ok else ["out of stock"]


def design_page(spec: ProductSpec, design: dict, form: FlaskForm, show: str = SHOW_NONE,
                general: list[str] | None = None, picked: Mapping[str, str] | None = None,
                settled: Settled | None = None) -> dict:
    """Everything the configurator shows for `design`, worked out by the engine.

    Options in `picked` were picked for the shopper: they give way to the shopper's own
    choices (see `domain.settle`), and the choices are offered with only those held.
    `settled`: that outcome, when the caller has worked it out already.
    """
    levels = None
    if settled is None:
        levels = stock.levels_for(spec, design)
        settled = _settle(spec, design, picked or {}, levels)
    if settled.design is not design:  # defaults gave way: the levels are the new design's
        levels = None
    design = settled.design
    for change in settled.changes:
        form[f"{OPTION_PREFIX}{change.option}"].data = change.now
    prop = settled.found or propagate(
        spec, design, stock=stock.levels_for(spec, design) if levels is None else levels)
    if settled.offered is not None:
        prop = replace(prop, options=settled.offered.options)
    general = list(general or [])
    if show != SHOW_NONE:
        violations = validate(spec, design).violations
        if show == SHOW_ENTERED:
            violations = [v for v in violations if _entered(v, design)]
        general += attach_violations(form, violations)
        _attach_choice_reasons(design, prop, form)
    return {
        "groups": fragments.option_groups(spec, form, prop),
        "measure_groups": fragments.measurement_groups(spec, form, prop),
        "texts": [{"text": t, "field": form[f"{TEXT_PREFIX}{t.id}"],
                   "active": applies(spec, t.when, design["options"])} for t in spec.texts],
        "price": price_view(prop.price.as_dict()),
        "preview": render_preview(spec, design),
        "feasible": prop.feasible,
        "general": general,
        "error_count": sum(len(f.errors) for f in form) + len(general),
        "auto": settled.auto, "auto_json": json.dumps(settled.auto, sort_keys=True),
        "changes": settled.changes,
    }


def _settle(spec: ProductSpec, design: dict, picked: Mapping[str, str],
            levels: Mapping[str, Decimal]) -> Settled:
    """`settle`, worked out once per spec and sold-out materials for a fresh page (the
    spec's defaults, all picked for the shopper), which is how every shopper starts."""
    if picked and picked == design["options"] and design == default_design(spec):
        return _fresh_settled(spec, sold_out(levels))
    return settle(spec, design, picked, levels)


@functools.lru_cache(maxsize=256)
def _fresh_settled(spec: ProductSpec, out: frozenset[str]) -> Settled:
    """Shared between requests: the pages only read it. The engine reads no more of the
    levels than which materials are sold out (`sold_out`)."""
    design = default_design(spec)
    return settle(spec, design, dict(design["options"]), {m: Decimal(0) for m in out})


def _entered(violation, design: dict) -> bool:
    """A violation about something the shopper already chose or typed (not "required")."""
    if violation.rule == "required":
        return False
    for path in violation.fields:
        section, _, key = path.partition(".")
        if key in design.get(section, {}):
            return True
    return not violation.fields


def _attach_choice_reasons(design: dict, prop, form: FlaskForm) -> None:
    """A chosen choice that is no longer possible (out of stock, say) gets its reason shown."""
    for option_id, choice_id in design["options"].items():
        state = prop.options.get(option_id, {}).get(choice_id)
        name = f"{OPTION_PREFIX}{option_id}"
        if state is not None and not state.available and name in form:
            for reason in state.reasons:
                if reason.message not in form[name].errors:
                    form[name].errors = [*form[name].errors, reason.message]


def price_view(price: dict) -> dict:
    """The quote as shown: total, the shopper's lines, and what it pays for."""
    return {**price, "parts": [("Materials", price.get("materials")),
                               ("Labour", price.get("labour")), ("Margin", price.get("margin"))]}


# -- the cart: a list of draft tokens in the session ----------------------------------------

def cart() -> list[dict]:
    items = session.get("cart")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def add_to_cart(token: str, label: str) -> None:
    session["cart"] = [*cart(), {"draft": token, "label": label[:200]}][:MAX_CART_UNITS]


def remove_from_cart(index: int) -> None:
    items = cart()
    if 0 <= index < len(items):
        del items[index]
        session["cart"] = items


@dataclass
class CartUnit:
    index: int
    request: orders.UnitRequest
    product_name: str
    draft_url: str
    summary: list[tuple[str, str]] = field(default_factory=list)
    price: dict | None = None
    problems: list[str] = field(default_factory=list)
    checked: orders.CheckedUnit | None = None  # a valid design, as the order service checked it

    @property
    def for_order(self) -> orders.UnitRequest | orders.CheckedUnit:
        """What checkout hands to place_order (a checked design is not checked again)."""
        return self.checked or self.request


def cart_units() -> list[CartUnit]:
    units = []
    for index, item in enumerate(cart()):
        found = drafts.get_draft(item.get("draft"))
        spec = catalog().products.get(found.product_id) if found else None
        if found is None or spec is None:
            continue
        design = orders.normalise_design(found.design)
        request = orders.UnitRequest(spec.id, design, str(item.get("label", "")))
        try:
            checked, problems = orders.check_design(len(units) + 1, spec, design, request.label), []
        except orders.OrderRejected as exc:
            checked, problems = None, [p.message for p in exc.problems]
        units.append(CartUnit(
            index=index, request=request, product_name=spec.name,
            draft_url=url_for("shop.draft", token=found.token),
            summary=design_summary(spec, design),
            price=price_view(checked.quote) if checked else None, problems=problems,
            checked=checked))
    _note_shortfalls(units)
    return units


def _note_shortfalls(units: list[CartUnit]) -> None:
    """Each unit may fit the stock alone while the order as a whole does not (two suits, the
    last 5 m of a cloth): say so on the units that share the material, before checkout."""
    needs: dict[tuple[str, str], tuple[Decimal, list[int]]] = {}
    for position, unit in enumerate(units, start=1):
        if unit.checked is None:
            continue
        pid = unit.checked.spec.id
        for line in unit.checked.bill:
            quantity, positions = needs.get((pid, line["material"]), (Decimal(0), []))
            needs[pid, line["material"]] = (quantity + Decimal(line["quantity"]),
                                            [*positions, position])
    shared = {key: need for key, need in needs.items() if len(need[1]) > 1}
    levels = {pid: stock.levels(catalog().products[pid]) for pid in {pid for pid, _ in shared}}
    for (pid, material_id), (quantity, positions) in shared.items():
        left = levels[pid].get(material_id, Decimal(0))
        if stock.round_up(quantity) > left:
            material = catalog().products[pid].material(material_id)
            message = (f"{material.name}: {left} {material.unit} left, but units "
                       f"{', '.join(map(str, positions))} need {stock.round_up(quantity)} "
                       f"{material.unit} together. Choose another option for one of them.")
            for position in positions:
                units[position - 1].problems.append(message)


def cart_total(units: list[CartUnit]) -> tuple[str, Decimal] | None:
    priced = [u.price for u in units if u.price]
    if not priced:
        return None
    return priced[0]["currency"], sum((Decimal(p["total"]) for p in priced), Decimal(0))


def customer_from(form: FlaskForm) -> orders.CustomerDetails:
    return orders.CustomerDetails(
        name=form.name.data or "", email=form.email.data or "", address=form.address.data or "")


def attach_order_problems(form: FlaskForm, exc: orders.OrderRejected) -> dict:
    """Customer problems go next to their fields; unit problems by unit position."""
    by_unit: dict = {}
    for problem in exc.problems:
        name = problem.field.removeprefix("customer.")
        if problem.unit is None and problem.field.startswith("customer.") and name in form:
            form[name].errors = [*form[name].errors, problem.message]
        else:
            by_unit.setdefault(problem.unit, []).append(problem.message)
    return by_unit


def design_summary(spec: ProductSpec, design: dict) -> list[tuple[str, str]]:
    """(label, value) pairs a person reads: "Fabric: Navy wool", "Chest: 102 cm"."""
    rows = []
    for option_id, choice_id in design.get("options", {}).items():
        option = spec.option(option_id)
        choice = option.choice(choice_id) if option else None
        rows.append((option.label if option else option_id,
                     choice.label if choice else str(choice_id)))
    for m_id, value in design.get("measurements", {}).items():
        m = spec.measurement(m_id)
        rows.append((m.label if m else m_id, f"{value} {m.unit if m else ''}".strip()))
    for t_id, value in design.get("texts", {}).items():
        t = spec.text(t_id)
        rows.append((t.label if t else t_id, str(value)))
    return rows


# -- tracking -------------------------------------------------------------------------------

def tracking_view(order) -> dict:
    """The order as its tracking page shows it, from the stored snapshots only."""
    return {
        "reference": order.reference, "promised_date": order.promised_date,
        "customer_name": order.customer_name, "address": order.address,
        "currency": order.currency, "total": order.total, "created_at": order.created_at,
        "tracking_token": order.tracking_token,
        "units": [_unit_view(order, unit) for unit in order.units]}


def _unit_view(order, unit) -> dict:
    try:
        spec = spec_for_version(unit.product_id, unit.spec_version)
    except LookupError:
        spec = None
    steps = unit_steps(unit.routing)
    reached = _reached(steps, unit.status)
    return {
        "code": unit.code, "position": unit.position, "label": unit.label,
        "product_name": spec.name if spec else unit.product_id,
        "summary": design_summary(spec, unit.design) if spec else [],
        "price": unit.price, "status": unit.status, "promised_date": unit.promised_date,
        "steps": [{"status": s, "label": label, "state": _step_state(i, reached)}
                  for i, (s, label) in enumerate(steps)],
        # Planners' notes are internal (why a unit went back, who is off sick): shoppers see
        # when each step was reached, nothing more.
        "events": [{"at": e.at, "label": "Order placed" if e.from_status is None
                    else dict(steps).get(e.to_status, e.to_status)} for e in unit.events],
        "again_url": url_for("shop.configure", product_id=unit.product_id,
                             order=order.tracking_token, unit=unit.position)
        if unit.product_id in catalog().products else None}


def _reached(steps: list[tuple[str, str]], status: str) -> int:
    names = [s for s, _ in steps]
    return names.index(status) if status in names else -1


def _step_state(index: int, reached: int) -> str:
    if index < reached:
        return "done"
    return "current" if index == reached else "todo"
