"""The configurator's option fieldsets and measurement inputs as frozen view values, and their
HTML rendered once per view: most options and measurements of most pages look the same, so the
Jinja macros (`templates/shop/_macros.html`) run once for each and their markup is reused.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_wtf import FlaskForm
from jinja2 import Template
from markupsafe import Markup

from ..domain.model import Choice, Measurement, Option, ProductSpec
from ..preview import safe_colour
from .forms import MEASURE_PREFIX, OPTION_PREFIX


def option_groups(spec: ProductSpec, form: FlaskForm, prop) -> list[dict]:
    groups: dict[str, list] = {}
    for option in spec.options:
        groups.setdefault(option.group or "Design", []).append(_option_view(option, form, prop))
    return [{"title": title, "options": items} for title, items in groups.items()]


@dataclass(frozen=True)
class _Value:
    """A view value: templates read its attributes; Python code may subscript it like the
    dict it replaced (`ov["option"]`)."""

    def __getitem__(self, key: str):
        return getattr(self, key)


@dataclass(frozen=True)
class FieldView(_Value):
    """What `option_fieldset` reads of a form field, fixed once its errors are attached."""
    id: str
    name: str
    errors: tuple[str, ...]


@dataclass(frozen=True)
class ChoiceView(_Value):
    choice: Choice = field(compare=False)  # compared by its id: ids are unique in an option
    choice_id: str
    checked: bool
    available: bool
    disabled: bool
    colour: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class OptionView(_Value):
    """Everything `option_fieldset` shows of one option besides the spec: two equal views of
    one spec render the same HTML (see `option_fieldset_html`)."""
    option: Option = field(compare=False)  # compared by its id: ids are unique in a spec
    option_id: str
    field: FieldView
    choices: tuple[ChoiceView, ...]
    active: bool


def _option_view(option: Option, form: FlaskForm, prop) -> OptionView:
    field_ = form[f"{OPTION_PREFIX}{option.id}"]
    states = prop.options.get(option.id, {})
    choices = []
    for choice in option.choices:
        state = states.get(choice.id)
        available = state.available if state is not None else True
        checked = field_.data == choice.id
        choices.append(ChoiceView(
            choice, choice.id, checked, available, not available and not checked,
            safe_colour(choice.colour),
            tuple(r.message for r in state.reasons) if state is not None else ()))
    return OptionView(option, option.id, FieldView(field_.id, field_.name, tuple(field_.errors)),
                      tuple(choices), prop.active.get(option.id, True))


@functools.lru_cache(maxsize=2048)
def _fieldset_html(template: Template, spec: ProductSpec, ov: OptionView) -> Markup:
    return template.module.option_fieldset(ov, spec)


def option_fieldset_html(ov: OptionView, spec: ProductSpec) -> Markup:
    """The `option_fieldset` macro's HTML, rendered once per spec, macro and option view: the
    macro reads nothing but `ov` and `spec` (most options of most pages look the same)."""
    template = current_app.jinja_env.get_template("shop/_macros.html")
    return _fieldset_html(template, spec, ov)


def measurement_groups(spec: ProductSpec, form: FlaskForm, prop) -> list[dict]:
    groups: dict[str, list] = {}
    for m in spec.measurements:
        allowed = prop.measurements.get(m.id)
        groups.setdefault(m.group or "Measurements", []).append(_measure_view(
            spec, m, form[f"{MEASURE_PREFIX}{m.id}"], allowed.min if allowed else m.min,
            allowed.max if allowed else m.max))
    return [{"title": title, "items": items} for title, items in groups.items()]


@dataclass(frozen=True)
class MeasureView(_Value):
    """Everything `measure_item` shows of one measurement: two equal views render the same
    HTML (see `measure_item_html`)."""
    spec: ProductSpec  # compared by identity
    measurement: Measurement = field(compare=False)  # compared by its id, unique in a spec
    measurement_id: str
    field: FieldView
    value: str  # what the input shows: as typed, or the design's number
    min: Decimal | None
    max: Decimal | None


def _measure_view(spec: ProductSpec, m: Measurement, field_, low, high) -> MeasureView:
    return MeasureView(spec, m, m.id, FieldView(field_.id, field_.name, tuple(field_.errors)),
                       field_._value(), low, high)


@functools.lru_cache(maxsize=2048)
def _measure_html(template: Template, mv: MeasureView) -> Markup:
    return template.module.measure_item(mv)


def measure_item_html(mv: MeasureView) -> Markup:
    """The `measure_item` macro's HTML, rendered once per macro and view: the macro reads
    nothing but `mv` (a fresh page's measurements all look the same)."""
    return _measure_html(current_app.jinja_env.get_template("shop/_macros.html"), mv)
