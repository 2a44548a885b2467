"""Forms of the group pages. The member's design itself is the shop's configurator form
(`forms.form_class(spec)`); these carry the rest: the group's settings, a member's details,
the organiser's delivery details. Every form posts with CSRF."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, SelectMultipleField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from ..services.groups import MAX_MEMBERS
from .forms import CheckoutForm, _strip


class CountField(Field):
    """A whole number typed as text, so a wrong entry comes back with our message."""
    widget = TextInput()

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        self.data = int(raw) if raw.isdecimal() and len(raw) <= 4 else None
        if raw and self.data is None:
            raise ValueError(f"Please enter a whole number from 1 to {MAX_MEMBERS}.")

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class DayField(Field):
    """A date as the browser's date input sends it (YYYY-MM-DD)."""
    widget = TextInput(input_type="date")

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if raw:
            try:
                self.data = date.fromisoformat(raw[:10])
            except ValueError:
                raise ValueError("Please enter a date like 2026-05-30.") from None

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, date) else ""


def _deadline() -> DayField:
    return DayField("Last day to join", validators=[InputRequired(
        "Please choose the last day to join.")])


def _expected() -> CountField:
    return CountField("How many people will you invite?", validators=[InputRequired(
        "Please enter how many people you will invite.")], render_kw={
        "inputmode": "numeric", "size": 4, "autocomplete": "off"})


class NewGroupForm(FlaskForm):
    draft = HiddenField()
    title = StringField("Name of the group", filters=[_strip], validators=[
        InputRequired("Please enter a name for the group."), Length(max=120)],
        render_kw={"maxlength": 120, "autocomplete": "off",
                   "placeholder": "e.g. Rui and Ana's wedding"})
    organiser_name = StringField("Your name", filters=[_strip], validators=[
        InputRequired("Please enter your name."), Length(max=200)],
        render_kw={"autocomplete": "name", "maxlength": 200})
    organiser_email = StringField("Your email", filters=[_strip], validators=[
        InputRequired("Please enter your email address."), Length(max=254)],
        render_kw={"autocomplete": "email", "type": "email", "maxlength": 254})
    expected_members = _expected()
    deadline = _deadline()
    member_options = SelectMultipleField(
        "Each member chooses", choices=[], validate_choice=False,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class MemberForm(FlaskForm):
    """A member's details; posted inside the configurator form, whose token covers CSRF."""

    class Meta:
        csrf = False

    first_name = StringField("First name", filters=[_strip], validators=[
        InputRequired("Please enter your first name."), Length(max=60)],
        render_kw={"autocomplete": "given-name", "maxlength": 60})
    full_name = StringField("Full name (optional)", filters=[_strip], validators=[
        Optional(), Length(max=200)], render_kw={"autocomplete": "name", "maxlength": 200})
    email = StringField("Email", filters=[_strip], validators=[
        InputRequired("Please enter your email address."),
        Email("Please check the email address: it needs an @ and a domain, like ana@example.com."),
        Length(max=254)], render_kw={"autocomplete": "email", "type": "email", "maxlength": 254})
    member_label = StringField("Role or note for the organiser (optional)", filters=[_strip],
                               validators=[Optional(), Length(max=200)],
                               render_kw={"maxlength": 200, "autocomplete": "off",
                                          "placeholder": "e.g. best man"})


class PlaceForm(CheckoutForm):
    """The organiser pays and receives: their delivery details, and who they saw included."""
    roster = HiddenField()


class SettingsForm(FlaskForm):
    deadline = _deadline()
    expected_members = _expected()
