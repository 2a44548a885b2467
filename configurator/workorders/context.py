"""The plain values a traveller shows, built from a unit's stored snapshot and spec version only."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from sqlalchemy import select

from ..domain.model import ProductSpec
from ..extensions import db
from ..specs_registry import spec_for_version


def work_order_context(unit, *, factory: str, public_url: str) -> dict:
    """Everything the template needs from a `models.Unit`, as strings, lists and dicts."""
    spec = spec_for_version(unit.product_id, unit.spec_version)
    design = unit.design or {}
    order = unit.order
    remake = _remake(unit, spec)
    return {
        "factory": factory,
        "unit": {
            "code": unit.code, "label": unit.label, "position": unit.position,
            "count": len(order.units),
            "url": f"{public_url.rstrip('/')}/planner/units/{quote(unit.code)}",
        },
        "order": {
            "reference": order.reference, "customer_name": order.customer_name,
            "promised_date": unit.promised_date.isoformat(),
            "partner_reference": order.partner_reference or "",
        },
        "product": {"id": spec.id, "name": spec.name, "spec_version": unit.spec_version[:12]},
        "option_columns": split_in_two(_options(spec, design.get("options", {}))),
        "measurements": _measurements(spec, design.get("measurements", {}),
                                      {c["id"] for c in remake["changes"]} if remake else ()),
        "texts": _texts(spec, design.get("texts", {})),
        "materials": [row for line in unit.bill for row in _material_rows(line)],
        "routing": [_step_cells(n, step) for n, step in enumerate(unit.routing, 1)],
        "total_minutes": number(sum((_decimal(s["minutes"]) for s in unit.routing), Decimal(0))),
        "notes": _notes(unit),
        "remake": remake,
    }


def _grouped(rows: list[tuple[str, dict]]) -> list[tuple[str, list[dict]]]:
    """Rows under their heading, headings in the order the spec first uses them."""
    groups: dict[str, list[dict]] = {}
    for group, row in rows:
        groups.setdefault(group, []).append(row)
    return list(groups.items())


def split_in_two(groups: list[tuple[str, list[dict]]]) -> list[list[tuple[str, list[dict]]]]:
    """Two columns of whole groups with about the same number of lines each."""
    total = sum(len(rows) + 1 for _, rows in groups)
    left, count = [], 0
    for group in groups:
        if count and count + (len(group[1]) + 1) / 2 > total / 2:
            break
        left.append(group)
        count += len(group[1]) + 1
    return [left, groups[len(left):]]


def _options(spec: ProductSpec, chosen: dict) -> list[tuple[str, list[dict]]]:
    rows = []
    for option in spec.options:
        if option.id not in chosen:
            continue  # not applicable to this design
        choice = option.choice(chosen[option.id])
        value = choice.label if choice else str(chosen[option.id])
        rows.append((option.group, {"label": option.label, "value": value}))
    return _grouped(rows)


def _measurements(spec: ProductSpec, values: dict, changed=()) -> list[tuple[str, list[dict]]]:
    rows = [(m.group, {"label": ("» " if m.id in changed else "") + m.label,
                       "value": number(values[m.id]), "unit": m.unit})
            for m in spec.measurements if m.id in values]
    return _grouped(rows)


def _texts(spec: ProductSpec, values: dict) -> list[dict]:
    return [{"label": t.label, "value": str(values[t.id])}
            for t in spec.texts if values.get(t.id)]


def _material_rows(line: dict) -> list[list[str]]:
    """The material's lines in the list: quantity and name, then how to cut it."""
    quantity = f"{number(line['quantity'])} {line.get('unit', '')}".strip()
    rows = [[quantity, line.get("name", "")]]
    if line.get("note"):
        rows.append(["", f"↳ {line['note']}"])
    return rows


def _step_cells(position: int, step: dict) -> list[str]:
    """Station, operation and standard minutes of the routing's step at `position`."""
    name = step.get("station_name") or step["station"]
    # "Cutting room (CAD marker, single-ply cutter...)": the floor knows the short name
    short = name.split(" (")[0]
    return [f"{position} · {short}", step["operation"], number(step["minutes"])]


def _remake(unit, spec: ProductSpec) -> dict | None:
    """For a remake: the unit it replaces, why, and each changed measurement (old -> new)."""
    if not unit.remake_of_id:
        return None
    from ..models import Unit
    from ..models.feedback import RemakeRequest

    original = db.session.get(Unit, unit.remake_of_id)
    request = db.session.execute(select(RemakeRequest).where(
        RemakeRequest.remake_unit_id == unit.id)).scalar_one_or_none()
    changes = []
    for m_id, change in (request.measurement_changes if request else {}).items():
        m = spec.measurement(m_id)
        changes.append({"id": m_id, "label": m.label if m else m_id, "unit": m.unit if m else "",
                        "from": number(change.get("from")), "to": number(change.get("to"))})
    reason = " ".join((request.description if request else "").split())
    return {"of": original.code if original else "", "category": request.category if request
            else "", "reason": reason[:300] + ("…" if len(reason) > 300 else ""),
            "changes": changes}


def _notes(unit) -> list[str]:
    notes = [line for line in (unit.notes or "").splitlines() if line.strip()]
    if unit.remake_of_id:
        notes.insert(0, "Remake of an earlier unit: check the reason before cutting.")
    return notes


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def number(value) -> str:
    """102.50 -> '102.5', 3 -> '3': the shortest exact form, never scientific notation."""
    text = format(_decimal(value).normalize(), "f")
    return text
