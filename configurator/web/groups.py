"""Group orders in the shop: start a group from a design, the organiser's page, the invitation
and each member's own page. Three kinds of link, each an unguessable token: the organiser's
(everything about the group, first names only), the invitation (the shared design, nobody's
details) and a member's (their own entries only)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..services import drafts, group_checkout, groups
from ..specs_registry import catalog
from . import group_pages as pages
from .forms import DraftForm, design_from_form, form_class
from .group_forms import PlaceForm, SettingsForm
from .shop_pages import clean_token, prune_inactive

bp = Blueprint("groups", __name__)


@bp.post("/products/<product_id>/group")
def start(product_id: str):
    """The configurator's "Start a group order" button: keep the design as a draft, then ask
    the organiser what members choose."""
    spec = catalog().products.get(product_id) or abort(404)
    form = form_class(spec)()
    form.validate()
    if form.csrf_token.errors:
        flash("The page had expired; please press “Start a group order” again.", "error")
        return redirect(url_for("shop.configure", product_id=spec.id))
    draft = drafts.save_draft(spec, prune_inactive(spec, design_from_form(spec, form)),
                              clean_token(request.form.get("parent")))
    return redirect(url_for("groups.new", draft=draft.token))


@bp.route("/groups/new", methods=["GET", "POST"])
def new():
    draft = drafts.get_draft(request.values.get("draft")) or abort(404)
    spec = catalog().products.get(draft.product_id) or abort(404)
    form = pages.new_group_form(spec, draft)
    general: list[str] = []
    if form.validate_on_submit():
        try:
            group = groups.create_group(spec, draft.design, pages.settings_from(form),
                                        form.member_options.data or [])
        except groups.GroupError as exc:
            general = pages.attach_problems(form, exc)
        else:
            flash("Your group is open. Share the invitation link below with the group, and "
                  "keep this page's address: it is your organiser page.", "success")
            return redirect(url_for("groups.organiser", token=group.organiser_token))
    return render_template("groups/new.html", spec=spec, form=form, general=general,
                           page=pages.new_group_page(spec, draft, form)), (
        422 if general or form.errors else 200)


@bp.get("/groups/<token>")
def organiser(token: str):
    group = groups.group_for_organiser(token) or abort(404)
    return _organiser_page(group)


@bp.post("/groups/<token>/place")
def place(token: str):
    group = groups.group_for_organiser(token) or abort(404)
    form = PlaceForm()
    if not form.validate_on_submit():
        return _organiser_page(group, place_form=form, status=422)
    try:
        order = group_checkout.place_group(group, pages.customer_from(form), pages.roster(form))
    except groups.GroupError as exc:
        general = pages.attach_problems(form, exc)
        return _organiser_page(group, place_form=form, general=general, status=422)
    flash(f"Thank you! The group's order {order.reference} is placed, one unit per member. "
          "Follow it with the tracking link below.", "success")
    return redirect(url_for("groups.organiser", token=group.organiser_token))


@bp.post("/groups/<token>/settings")
def settings(token: str):
    group = groups.group_for_organiser(token) or abort(404)
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            groups.change_settings(group, form.deadline.data, form.expected_members.data)
        except groups.GroupError as exc:
            return _organiser_page(group, settings_form=form, status=422,
                                   general=pages.attach_problems(form, exc))
        flash(f"Saved: the group is open until {groups.closing_text(group)}.", "success")
        return redirect(url_for("groups.organiser", token=group.organiser_token))
    return _organiser_page(group, settings_form=form, status=422)


@bp.post("/groups/<token>/close")
def close(token: str):
    group = groups.group_for_organiser(token) or abort(404)
    if DraftForm().validate_on_submit() and group.state != groups.PLACED:
        groups.close_group(group)
        flash("The group is closed: nobody can join or change their entries now.", "success")
    return redirect(url_for("groups.organiser", token=group.organiser_token))


@bp.post("/groups/<token>/members/<int:member_id>/remove")
def remove(token: str, member_id: int):
    group = groups.group_for_organiser(token) or abort(404)
    if DraftForm().validate_on_submit():
        try:
            name = groups.remove_member(group, member_id)
        except groups.GroupError as exc:
            flash(exc.problems[0].message, "error")
        else:
            if name:
                flash(f"{name} is no longer in the group; their entries are deleted.", "success")
    return redirect(url_for("groups.organiser", token=group.organiser_token))


def _organiser_page(group, place_form=None, settings_form=None, general=(), status=200):
    page = pages.organiser_page(group)
    return render_template(
        "groups/organiser.html", group=group, page=page, general=list(general),
        place_form=place_form or pages.place_form(group, page),
        settings_form=settings_form or pages.settings_form(group),
        close_form=DraftForm()), status


@bp.route("/join/<token>", methods=["GET", "POST"])
def invite(token: str):
    group = groups.group_for_invite(token) or abort(404)
    return pages.member_view(group, None)


@bp.route("/member/<token>", methods=["GET", "POST"])
def member(token: str):
    found = groups.member_by_token(token) or abort(404)
    return pages.member_view(found.group, found)


@bp.post("/member/<token>/leave")
def leave(token: str):
    found = groups.member_by_token(token) or abort(404)
    if not DraftForm().validate_on_submit():
        flash("The page had expired; please press “Leave the group” again.", "error")
        return redirect(url_for("groups.member", token=found.token))
    invite_token = found.group.invite_token
    try:
        groups.leave_group(found)
    except groups.GroupError as exc:
        flash(exc.problems[0].message, "error")
        return redirect(url_for("groups.member", token=found.token))
    flash("You have left the group; everything you entered is deleted.", "success")
    return redirect(url_for("groups.invite", token=invite_token))
