"""Forms: the configurator's form is built from the spec at run time; checkout is fixed.

The form parses what the shopper typed (numbers, text) and carries CSRF; whether a design is
valid is the engine's call, and its violations are put next to the fields they name.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional
from wtforms.widgets import TextInput
from wtforms.widgets.core import clean_key

from ..domain.model import Measurement, Option, ProductSpec
from ..domain.model import TextInput as TextSpec

OPTION_PREFIX, MEASURE_PREFIX, TEXT_PREFIX = "option_", "measure_", "text_"
SECTIONS = {"options": OPTION_PREFIX, "measurements": MEASURE_PREFIX, "texts": TEXT_PREFIX}
MAX_NUMBER_CHARS = 20


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def parse_number(raw: object, unit: str = "") -> Decimal | None:
    """A shopper's number: "102", "102.5", "102,5", "102 cm"; None when it is not one."""
    if isinstance(raw, bool) or raw is None:
        return None
    text = str(raw).strip()
    if unit and text.lower().endswith(unit.lower()):
        text = text[: -len(unit)].strip()
    text = text.replace(",", ".")
    if not text or len(text) > MAX_NUMBER_CHARS or not re.fullmatch(r"-?\d*\.?\d*", text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def design_number(value: Decimal) -> int | float:
    """A measurement as stored in a design (JSON): an integer when whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def html_params(**kwargs) -> Markup:
    """`wtforms.widgets.html_params`, the same output without `Markup.format`, whose
    string.Formatter took a third of the configurator page's rendering (~20 inputs), and
    joined as plain strings once every value is escaped (a Markup per step cost 3x more)."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = escape(clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:  # escape() leaves a '"' only inside a Markup value
            value = str(escape(value)).replace('"', "&quot;")
            params.append(f'{key}="{value}"')
    return Markup(" ".join(params))


class FastTextInput(TextInput):
    """A text input rendered with our `html_params`."""
    html_params = staticmethod(html_params)


class MeasurementField(Field):
    """A number with a unit, typed as text so a wrong entry comes back with our message."""
    widget = FastTextInput()

    def __init__(self, label: str, unit: str, **kwargs):
        super().__init__(label, **kwargs)
        self.unit = unit
        self.raw = ""

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "")[:MAX_NUMBER_CHARS * 2]
        self.data = None
        if self.raw.strip():
            self.data = parse_number(self.raw, self.unit)
            if self.data is None:
                raise ValueError(
                    f"Please enter a number in {self.unit}, like 102 or 102.5.")

    def _value(self) -> str:
        if self.raw:
            return self.raw
        return "" if self.data is None else str(self.data)


def _option_field(option: Option) -> Field:
    choices = [SelectChoice(c.id, c.label) for c in option.choices]
    # The engine judges the choice (and says why not); WTForms only carries it.
    kind = SelectField if option.display == "select" else RadioField
    if kind is SelectField:
        choices = [SelectChoice("", "Choose…")] + choices
    return kind(option.label, choices=choices, validate_choice=False,
                validators=[Optional()], filters=[_strip])


def measurement_attributes(m: Measurement) -> dict:
    """The attributes of a measurement's input wherever it is written: by WTForms (the remake
    form) and by the configurator's `measure_item` macro, which renders it from cached views."""
    return {"inputmode": "decimal", "autocomplete": "off", "size": 8,
            "placeholder": "" if m.typical is None else f"e.g. {m.typical}"}


def _measurement_field(m: Measurement) -> Field:
    return MeasurementField(m.label, unit=m.unit, render_kw=measurement_attributes(m))


def _text_field(t: TextSpec) -> Field:
    return StringField(t.label, filters=[_strip], widget=FastTextInput(), render_kw={
        "maxlength": t.max_length, "autocomplete": "off", "size": max(4, t.max_length)})


FIELD_BUILDERS: dict[str, Callable] = {
    OPTION_PREFIX: _option_field, MEASURE_PREFIX: _measurement_field, TEXT_PREFIX: _text_field}


@functools.cache
def form_class(spec: ProductSpec) -> type[FlaskForm]:
    """The configurator form of one spec version, made once."""
    fields: dict[str, object] = {}
    for prefix, items in ((OPTION_PREFIX, spec.options), (MEASURE_PREFIX, spec.measurements),
                          (TEXT_PREFIX, spec.texts)):
        fields.update({f"{prefix}{item.id}": FIELD_BUILDERS[prefix](item) for item in items})
    fields["label"] = StringField(
        "Who is it for? (optional)", filters=[_strip], validators=[Length(max=200)],
        widget=FastTextInput(), render_kw={"maxlength": 200, "autocomplete": "off"})
    name = re.sub(r"\W", "", spec.id.title()) or "Product"
    return type(f"{name}Form", (FlaskForm,), fields)


def design_from_form(spec: ProductSpec, form: FlaskForm) -> dict:
    """The design the form holds: only what was chosen or typed (and parsed)."""
    design: dict[str, dict] = {"options": {}, "measurements": {}, "texts": {}}
    for o in spec.options:
        value = form[f"{OPTION_PREFIX}{o.id}"].data
        if isinstance(value, str) and value:
            design["options"][o.id] = value
    for m in spec.measurements:
        value = form[f"{MEASURE_PREFIX}{m.id}"].data
        if value is not None:
            design["measurements"][m.id] = design_number(value)
    for t in spec.texts:
        value = form[f"{TEXT_PREFIX}{t.id}"].data
        if isinstance(value, str) and value:
            design["texts"][t.id] = value
    return design


def form_data_from_design(spec: ProductSpec, design: dict) -> dict:
    """Initial field values that show `design` in the form (a draft, an earlier order)."""
    data: dict[str, object] = {}
    for section, prefix in SECTIONS.items():
        values = design.get(section) if isinstance(design.get(section), dict) else {}
        for key, value in values.items():
            if section == "measurements":
                value = parse_number(value)
            data[f"{prefix}{key}"] = value
    return data


def field_name(path: str) -> str | None:
    """The form field for an engine field path ("measurements.chest" -> "measure_chest")."""
    section, _, key = path.partition(".")
    prefix = SECTIONS.get(section)
    return f"{prefix}{key}" if prefix and key else None


def attach_violations(form: FlaskForm, violations: Iterable) -> list[str]:
    """Put each violation's message next to every field it names; the rest are returned."""
    general = []
    for v in violations:
        names = [n for n in (field_name(f) for f in v.fields) if n and n in form]
        for name in names:
            if v.message not in form[name].errors:
                form[name].errors = [*form[name].errors, v.message]
        if not names and v.message not in general:
            general.append(v.message)
    return general


class CheckoutForm(FlaskForm):
    name = StringField("Full name", filters=[_strip], widget=FastTextInput(), validators=[
        InputRequired("Please enter your name."), Length(max=200)],
        render_kw={"autocomplete": "name", "maxlength": 200})
    email = StringField("Email", filters=[_strip], widget=FastTextInput(), validators=[
        InputRequired("Please enter your email address."),
        Email("Please check the email address: it needs an @ and a domain, like ana@example.com."),
        Length(max=254)], render_kw={"autocomplete": "email", "type": "email", "maxlength": 254})
    address = TextAreaField("Shipping address", filters=[_strip], validators=[
        InputRequired("Please enter the shipping address."), Length(max=1000)],
        render_kw={"autocomplete": "street-address", "rows": 4, "maxlength": 1000})


class DraftForm(FlaskForm):
    """An empty form: a button that posts with CSRF (start again, remove a unit)."""
