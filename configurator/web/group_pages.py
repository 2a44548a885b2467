"""What the group pages show, as plain values for the templates, and the member page's form
handling (shared by the invitation and a member's own link)."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from ..domain.model import ProductSpec
from ..extensions import db
from ..models import GroupMember, GroupOrder, Order, Unit
from ..models._types import utcnow
from ..preview import render_preview
from ..services import group_checkout, groups
from ..services.orders import CustomerDetails
from ..services.progress import step_label
from .forms import OPTION_PREFIX, DraftForm, design_from_form, form_class, form_data_from_design
from .group_forms import MemberForm, NewGroupForm, PlaceForm, SettingsForm
from .shop_pages import SHOW_ALL, SHOW_ENTERED, SHOW_NONE, design_page, design_summary

DEFAULT_DEADLINE_DAYS = 14


def organiser_first_name(group: GroupOrder) -> str:
    """All a member learns of the organiser: the first word of their name."""
    return (group.organiser_name.split() or ["the organiser"])[0]


def attach_problems(form: FlaskForm, exc: groups.GroupError) -> list[str]:
    """A service's problems next to the fields they name; the rest are returned."""
    general = []
    for problem in exc.problems:
        name = problem.field.removeprefix("customer.")
        if name in form and name != "csrf_token":
            form[name].errors = [*form[name].errors, problem.message]
        elif problem.message not in general:
            general.append(problem.message)
    return general


# -- starting a group -----------------------------------------------------------------------

def new_group_form(spec: ProductSpec, draft) -> NewGroupForm:
    deadline = (utcnow() + timedelta(days=DEFAULT_DEADLINE_DAYS)).date()
    form = NewGroupForm(data={"draft": draft.token, "deadline": deadline, "expected_members": 4,
                              "member_options": list(groups.suggested_member_options(spec))})
    form.member_options.choices = [(o.id, o.label) for o in spec.options]
    return form


def new_group_page(spec: ProductSpec, draft, form: NewGroupForm) -> dict:
    base = groups.prune(spec, {**draft.design, "measurements": {}, "texts": {}})
    ticked = set(form.member_options.data or [])
    rows = []
    for option in spec.options:
        chosen = option.choice(base["options"].get(option.id, ""))
        rows.append({"option": option, "chosen": chosen.label if chosen else None,
                     "ticked": option.id in ticked, "id": f"mo-{option.id}"})
    return {"options": rows, "preview": render_preview(spec, base),
            "texts": [t.label for t in spec.texts],
            "change_url": url_for("shop.draft", token=draft.token)}


def settings_from(form: NewGroupForm) -> groups.GroupSettings:
    return groups.GroupSettings(
        title=form.title.data or "", organiser_name=form.organiser_name.data or "",
        organiser_email=form.organiser_email.data or "",
        expected_members=form.expected_members.data, deadline=form.deadline.data)


# -- the organiser's page -------------------------------------------------------------------

def organiser_page(group: GroupOrder) -> dict:
    spec = groups.spec_of_or_none(group)
    state = groups.state_of(group)
    lines, tally = group_checkout.review(group) if spec else ([], None)
    ready = [line for line in lines if line.status == groups.READY]
    order = db.session.get(Order, group.order_id) if group.order_id else None
    return {
        "spec": spec, "state": state, "closing": groups.closing_text(group),
        "fixed": design_summary(spec, {"options": groups.fixed_choices(group)}) if spec else [],
        "member_choices": [spec.option(o).label for o in group.member_options
                           if spec and spec.option(o)],
        "preview": render_preview(spec, {"options": group.base_design.get("options", {})})
        if spec else "",
        "members": [_member_line(line, order) for line in lines],
        "joined": len(lines), "ready": len(ready),
        "missing": max(group.expected_members - len(lines), 0),
        "tally": tally, "roster": ",".join(group_checkout.roster_of(line.member for line in ready)),
        "left_out": [line.member.first_name for line in lines if line.status != groups.READY],
        "invite_url": url_for("groups.invite", token=group.invite_token, _external=True),
        "order": order, "tracking_url": url_for("shop.track", token=order.tracking_token,
                                                _external=True) if order else None,
        "deadline": (group.closes_at - timedelta(seconds=1)).date(),
    }


def _member_line(line: group_checkout.MemberLine, order: Order | None) -> dict:
    """A member as the organiser sees them: first name, note, state, price; once the order is
    placed, what the order holds (the unit's price after the group discount)."""
    member = line.member
    view = {"id": member.id, "first_name": member.first_name, "label": member.label,
            "status": line.status, "problems": line.problems, "price": line.price, "unit": None}
    if order is not None:
        unit = next((u for u in order.units if u.id == member.unit_id), None)
        view.update(status="ordered" if unit else "left-out", unit=unit.code if unit else None,
                    price=unit.price if unit else None, problems=[] if unit else line.problems)
    return view


def place_form(group: GroupOrder, page: dict) -> PlaceForm:
    return PlaceForm(data={"name": group.organiser_name, "email": group.organiser_email})


def settings_form(group: GroupOrder) -> SettingsForm:
    return SettingsForm(data={"deadline": (group.closes_at - timedelta(seconds=1)).date(),
                              "expected_members": group.expected_members})


def customer_from(form: PlaceForm) -> CustomerDetails:
    return CustomerDetails(name=form.name.data or "", email=form.email.data or "",
                           address=form.address.data or "")


def roster(form: PlaceForm) -> list[str]:
    """Who the organiser saw as included (`group_checkout.roster_of`); only compared, never
    trusted."""
    raw = form.roster.data if isinstance(form.roster.data, str) else ""
    return [part.strip() for part in raw[:5000].split(",") if part.strip()]


# -- the invitation and a member's own page -------------------------------------------------

def member_view(group: GroupOrder, member: GroupMember | None):
    """GET shows the form; POST "update" checks it (no JavaScript), "save" joins or saves."""
    spec = groups.spec_of_or_none(group)
    if spec is None:
        return render_template("groups/gone.html", group=group), 410
    design = member.design if member else groups.starting_design(group)
    form = form_class(spec)(data=form_data_from_design(spec, design))
    details = MemberForm(data=_details_data(member))
    show, general = SHOW_NONE, []
    if request.method == "POST":
        design = groups.member_design(spec, group, design_from_form(spec, form))
        parsed = form.validate() & details.validate()  # both, so every field gets its errors
        show = SHOW_ALL if request.form.get("action") == "save" else SHOW_ENTERED
        if parsed and request.form.get("action") == "save":
            try:
                saved = _save(group, member, details, design)
            except groups.GroupError as exc:
                general = attach_problems(details, exc)
            else:
                flash(_saved_message(group, member, saved), "success")
                return redirect(url_for("groups.member", token=saved.token))
    page = member_page(spec, group, member, design, form, show, general)
    return render_template("groups/member.html", spec=spec, group=group, member=member,
                           form=form, details=details, page=page, leave_form=DraftForm()), (
        422 if request.method == "POST" and page["error_count"] else 200)


def _details_data(member: GroupMember | None) -> dict:
    if member is None:
        return {}
    return {"first_name": member.first_name, "full_name": member.full_name,
            "email": member.email, "member_label": member.label}


def _save(group: GroupOrder, member: GroupMember | None, details: MemberForm,
          design: dict) -> GroupMember:
    clean = groups.MemberDetails(
        first_name=details.first_name.data or "", email=details.email.data or "",
        full_name=details.full_name.data or "", label=details.member_label.data or "")
    if member is None:
        return groups.join_group(group, clean, design)
    return groups.update_member(member, clean, design)


def _saved_message(group: GroupOrder, before: GroupMember | None, saved: GroupMember) -> str:
    start = "You have joined the group." if before is None else "Your changes are saved."
    if saved.status != groups.READY:
        return (f"{start} Your design cannot be made yet, so it is not in the group's order: "
                f"please see below what to change before {groups.closing_text(group)}.")
    return (f"{start} Keep this page's address: it is your own link to change your entries "
            f"until {groups.closing_text(group)}.")


def member_page(spec: ProductSpec, group: GroupOrder, member: GroupMember | None, design: dict,
                form: FlaskForm, show: str, general: list[str]) -> dict:
    """The configurator's page for the member's design: the free options only, the fixed
    choices as a summary (and as hidden fields, so the live check sees the whole design)."""
    page = design_page(spec, design, form, show, general)
    fixed = groups.fixed_choices(group)
    free = {o.id for o in spec.options} - set(fixed)
    page["groups"] = [{"title": g["title"], "options": [
        ov for ov in g["options"] if ov["option"].id in free and _may_apply(ov, free)]}
        for g in page["groups"]]
    page["groups"] = [g for g in page["groups"] if g["options"]]
    # Personal texts (the monogram) go with the option that switches them on.
    page["texts_group"] = next((g["title"] for g in page["groups"] for ov in g["options"]
                                if any(t.when is not None and ov["option"].id in t.when.names()
                                       for t in spec.texts)), None)
    page["fixed"] = design_summary(spec, {"options": fixed})
    page["fixed_fields"] = [(f"{OPTION_PREFIX}{k}", v) for k, v in fixed.items()]
    page["state"] = groups.state_of(group)
    page["closing"] = groups.closing_text(group)
    page["organiser"] = organiser_first_name(group)
    page["joined"] = len(group.members)
    page["status"], page["problems"] = (
        groups.check_member(spec, group, member.design) if member else (None, []))
    page["unit"] = _unit_view(member)
    page["summary"] = design_summary(spec, member.design) if member else []
    return page


def _may_apply(ov: dict, free: set[str]) -> bool:
    """Shown unless the fixed choices rule it out for everyone (a waistcoat's buttons when
    the group is two-piece)."""
    when = ov["option"].when
    return ov["active"] or (when is not None and bool(when.names() & free))


def _unit_view(member: GroupMember | None) -> dict | None:
    unit = db.session.get(Unit, member.unit_id) if member and member.unit_id else None
    if unit is None:
        return None
    return {"code": unit.code, "status": step_label(unit.routing, unit.status),
            "promised_date": unit.promised_date, "price": unit.price}
