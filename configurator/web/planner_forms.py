"""The planner console's forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (DateField, EmailField, Form, HiddenField, IntegerField, PasswordField,
                     SelectField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..services.planning import SORTS

WORK_ORDER_STATES = [SelectChoice("", "any"), *(SelectChoice(s) for s in (
    "pending", "rendering", "done", "failed"))]


def choices(values, any_label: str = "any") -> list[SelectChoice]:
    """Select options from plain values, with an empty "any" first."""
    return [SelectChoice("", any_label), *(SelectChoice(v) for v in values)]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class UnitFilterForm(Form):
    """Read from the query string (GET): a search changes nothing, so no CSRF token."""
    status = SelectField("Status", default="")
    product = SelectField("Product", default="")
    station = SelectField("Station", default="")
    promised_from = DateField("Promised from", validators=[Optional()])
    promised_to = DateField("to", validators=[Optional()])
    work_order = SelectField("Work order", choices=WORK_ORDER_STATES, default="")
    order_reference = StringField("Order", validators=[Optional(), Length(max=32)])
    sort = SelectField("Sort", choices=[
        SelectChoice(k, k.lstrip("-") + (" (latest first)" if k[0] == "-" else "")) for k in SORTS],
        default="promised")


class PrintForm(FlaskForm):
    days = IntegerField("Due within (days)", validators=[Optional(), NumberRange(0, 365)])
    format = SelectField("Format", choices=[SelectChoice("pdf", "one merged PDF"),
                                            SelectChoice("zip", "zip of PDFs")])


class AdvanceForm(FlaskForm):
    to_status = HiddenField(validators=[DataRequired()])
    expected_status = HiddenField()
    note = TextAreaField("Note", validators=[Length(max=2000)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class MaterialsForm(Form):
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
