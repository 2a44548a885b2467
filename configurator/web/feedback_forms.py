"""The tracking page's after-delivery forms (rate a unit, ask for a remake) and what it shows
of ratings and remake requests, as plain values for `templates/shop/_feedback.html`.

Each unit gets its own forms with a prefix ("u2r-fit"), so the labels of two units on one
page never share an id.
"""
from __future__ import annotations

import functools

from flask import abort, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ..domain import propagate
from ..domain.model import ProductSpec
from ..models import Order, Unit
from ..models.feedback import RATINGS
from ..services import feedback, remakes
from .forms import FIELD_BUILDERS, MEASURE_PREFIX, design_number, field_name, parse_number

SCORES = [SelectChoice(str(n), str(n)) for n in range(1, 6)]
RATING_LEGENDS = {"fit": "Fit", "quality": "Quality", "delivery": "Delivery"}
CATEGORY_CHOICES = [SelectChoice("fit", "It does not fit"),
                    SelectChoice("quality", "Something is wrong with how it is made")]


class RatingForm(FlaskForm):
    fit = RadioField("Fit", choices=SCORES, validators=[
        InputRequired("Please rate the fit from 1 to 5.")])
    quality = RadioField("Quality", choices=SCORES, validators=[
        InputRequired("Please rate the quality from 1 to 5.")])
    delivery = RadioField("Delivery", choices=SCORES, validators=[
        InputRequired("Please rate the delivery from 1 to 5.")])
    comment = TextAreaField("Anything to tell us? (optional)", validators=[
        Length(max=feedback.MAX_COMMENT)], render_kw={"rows": 3, "maxlength": feedback.MAX_COMMENT})


class _RemakeBase(FlaskForm):
    category = RadioField("What is wrong?", choices=CATEGORY_CHOICES, validators=[
        InputRequired("Please say whether the fit or the quality is wrong.")])
    description = TextAreaField("Tell us what is wrong", validators=[
        InputRequired("Please tell us what is wrong, so we can put it right."),
        Length(max=remakes.MAX_TEXT)], render_kw={"rows": 3, "maxlength": remakes.MAX_TEXT})


@functools.cache
def remake_form_class(spec: ProductSpec) -> type[FlaskForm]:
    """The remake form of one spec version: the fixed fields and one per measurement."""
    fields = {f"{MEASURE_PREFIX}{m.id}": FIELD_BUILDERS[MEASURE_PREFIX](m)
              for m in spec.measurements}
    return type("RemakeForm", (_RemakeBase,), fields)


def rating_form(unit: Unit, given=None) -> RatingForm:
    data = {n: str(getattr(given, n)) for n in RATINGS} if given else {}
    if given:
        data["comment"] = given.comment
    return RatingForm(prefix=f"u{unit.position}r", data=data)


def remake_form(unit: Unit, spec: ProductSpec) -> FlaskForm:
    data = {f"{MEASURE_PREFIX}{k}": parse_number(v)
            for k, v in (unit.design.get("measurements") or {}).items()}
    return remake_form_class(spec)(prefix=f"u{unit.position}m", data=data)


def ratings_from(form: RatingForm) -> dict[str, str]:
    return {n: form[n].data for n in RATINGS}


def adjustments_from(spec: ProductSpec, form: FlaskForm) -> dict:
    """The measurements as typed; unchanged ones are dropped by the service."""
    return {m.id: design_number(form[f"{MEASURE_PREFIX}{m.id}"].data) for m in spec.measurements
            if form[f"{MEASURE_PREFIX}{m.id}"].data is not None}


def attach_problems(form: FlaskForm, problems) -> list[str]:
    """Each problem next to its field; the ones about the unit itself are returned."""
    general = []
    for p in problems:
        name = field_name(p.field) or p.field
        if name in form and p.message not in form[name].errors:
            form[name].errors = [*form[name].errors, p.message]
        elif name not in form:
            general.append(p.message)
    return general


def unit_in(order: Order, position: int) -> Unit | None:
    return next((u for u in order.units if u.position == position), None)


def spec_or_404(unit: Unit) -> ProductSpec:
    try:
        return remakes.spec_of(unit)
    except LookupError:
        abort(404)


# -- what the tracking page shows ------------------------------------------------------------

def tracking_feedback(order: Order, bound: dict | None = None) -> dict[str, dict]:
    """Per unit code: remake links, the rating and remake forms, and the requests so far.
    `bound` holds forms posted with errors, by (position, "rating" | "remake")."""
    bound = bound or {}
    by_id = {u.id: u for u in order.units}
    return {u.code: _unit_feedback(order, u, by_id, bound) for u in order.units}


def _unit_feedback(order: Order, unit: Unit, by_id: dict, bound: dict) -> dict:
    original = by_id.get(unit.remake_of_id) if unit.remake_of_id else None
    view = {"remake_of": _ref(original), "rating": None, "remake": None,
            "requests": [_request_view(r, by_id) for r in remakes.requests_of(unit.id)],
            "general": bound.get((unit.position, "general"), [])}
    if unit.status != "shipped":
        return view
    given = feedback.feedback_of(unit.id)
    view["rating"] = {
        "given": given, "form": bound.get((unit.position, "rating")) or rating_form(unit, given),
        "action": url_for("shop.rate_unit", token=order.tracking_token, position=unit.position),
        "open": (unit.position, "rating") in bound}
    view["remake"] = _remake_view(order, unit, bound)
    return view


def _remake_view(order: Order, unit: Unit, bound: dict) -> dict | None:
    reason = remakes.why_not(unit)
    try:
        spec = remakes.spec_of(unit)
    except LookupError:
        return None
    if reason:
        return {"why_not": reason}
    form = bound.get((unit.position, "remake")) or remake_form(unit, spec)
    ranges = propagate(spec, unit.design).measurements
    return {
        "why_not": None, "form": form, "open": (unit.position, "remake") in bound,
        "action": url_for("shop.ask_remake", token=order.tracking_token, position=unit.position),
        "measurements": [{
            "field": form[f"{MEASURE_PREFIX}{m.id}"], "unit": m.unit,
            "current": unit.design.get("measurements", {}).get(m.id),
            "min": _num(ranges[m.id].min) if m.id in ranges else _num(m.min),
            "max": _num(ranges[m.id].max) if m.id in ranges else _num(m.max)}
            for m in spec.measurements]}


def _request_view(request, by_id: dict) -> dict:
    return {"status": request.status, "category": request.category,
            "description": request.description, "changes": change_rows(request),
            "created_at": request.created_at, "decided_at": request.decided_at,
            "decision_note": request.decision_note,
            "remake_unit": _ref(by_id.get(request.remake_unit_id))}


def change_rows(request) -> list[dict]:
    """A remake request's measurement changes as the customer and planner read them."""
    try:
        spec = remakes.spec_of(request.unit)
    except LookupError:
        spec = None
    rows = []
    for m_id, change in request.measurement_changes.items():
        m = spec.measurement(m_id) if spec else None
        rows.append({"label": m.label if m else m_id, "unit": m.unit if m else "",
                     "from": change.get("from"), "to": change.get("to")})
    return rows


def _ref(unit: Unit | None) -> dict | None:
    return {"code": unit.code, "position": unit.position} if unit else None


def _num(value) -> str:
    return "" if value is None else format(value.normalize(), "f")
