"""The shopper's pages: catalog, configurator, drafts, the order (cart and checkout), tracking."""
from __future__ import annotations

from flask import (Blueprint, abort, flash, redirect, render_template, request, session,
                   url_for)

from ..services import direct, drafts, feedback, orders, progress, remakes
from ..specs_registry import catalog
from . import feedback_forms as fb
from . import shop_fragments as fragments
from . import shop_pages as pages
from .forms import (CheckoutForm, DraftForm, form_class, form_data_from_design, html_params,
                    measurement_attributes)

bp = Blueprint("shop", __name__)
bp.add_app_template_global(fragments.option_fieldset_html)
bp.add_app_template_global(fragments.measure_item_html)
bp.add_app_template_global(html_params)
bp.add_app_template_global(measurement_attributes)


@bp.get("/")
def index():
    return render_template("shop/catalog.html", products=pages.catalog_entries())


@bp.route("/products/<product_id>", methods=["GET", "POST"])
def configure(product_id: str):
    spec = catalog().products.get(product_id) or abort(404)
    start = pages.starting_point(spec, request.args)
    data = {**form_data_from_design(spec, start.design), "label": start.label}
    form = form_class(spec)(data=data)
    parent = pages.clean_token(request.form.get("parent") or start.parent_token)
    if request.method == "POST":
        picked = pages.parse_picked(request.form.get("auto"), spec)
        outcome = pages.submit_design(spec, form, request.form.get("action", "update"), parent,
                                      picked)
        if outcome.redirect:
            flash(outcome.message, "success")
            return redirect(outcome.redirect)
        page = outcome.page
    else:
        page = pages.design_page(spec, pages.prune_inactive(spec, start.design), form,
                                 picked=pages.picked_for_shopper(spec, start))
    return render_template("shop/configure.html", spec=spec, form=form, page=page,
                           parent=parent, cart_size=len(pages.cart()))


@bp.get("/d/<token>")
def draft(token: str):
    """The shareable link of a draft: the configurator, restored exactly."""
    found = drafts.get_draft(token) or abort(404)
    return redirect(url_for("shop.configure", product_id=found.product_id, draft=found.token))


@bp.route("/order", methods=["GET", "POST"])
def order():
    form = CheckoutForm()
    units, problems = pages.cart_units(), {}
    if form.validate_on_submit():
        try:
            placed = orders.place_order(pages.customer_from(form), [u.for_order for u in units])
        except orders.OrderRejected as exc:
            problems = pages.attach_order_problems(form, exc)
        else:
            session.pop("cart", None)
            flash(f"Thank you! Your order {placed.reference} is placed. "
                  "Keep this page's address to follow it.", "success")
            return redirect(url_for("shop.track", token=placed.tracking_token))
    return render_template("shop/order.html", form=form, units=units, problems=problems,
                           remove_form=DraftForm(), total=pages.cart_total(units)), (
        422 if problems or form.errors else 200)


@bp.post("/order/remove/<int:index>")
def remove_unit(index: int):
    if DraftForm().validate_on_submit():
        pages.remove_from_cart(index)
    return redirect(url_for("shop.order"))


@bp.get("/track/<token>")
def track(token: str):
    with direct.alone():  # the page only reads: no transaction to open and roll back
        placed = progress.tracked_order(token) or abort(404)
        return _track_page(placed)


def _track_page(placed, bound: dict | None = None):
    return render_template("shop/track.html", order=pages.tracking_view(placed),
                           feedback=fb.tracking_feedback(placed, bound)), 422 if bound else 200


def _tracked_unit(token: str, position: int):
    placed = progress.tracked_order(token) or abort(404)
    return placed, fb.unit_in(placed, position) or abort(404)


@bp.post("/track/<token>/units/<int:position>/rating")
def rate_unit(token: str, position: int):
    placed, unit = _tracked_unit(token, position)
    form, general = fb.rating_form(unit), []
    if form.validate_on_submit():
        try:
            feedback.rate_unit(unit.id, fb.ratings_from(form), form.comment.data or "")
        except feedback.FeedbackRejected as exc:
            general = fb.attach_problems(form, exc.problems)
        else:
            flash(f"Thank you for rating unit {position}.", "success")
            return redirect(url_for("shop.track", token=token, _anchor=f"unit-{position}"))
    return _track_page(placed, {(position, "rating"): form, (position, "general"): general})


@bp.post("/track/<token>/units/<int:position>/remake")
def ask_remake(token: str, position: int):
    placed, unit = _tracked_unit(token, position)
    spec, general = fb.spec_or_404(unit), []
    form = fb.remake_form_class(spec)(prefix=f"u{position}m")
    if form.validate_on_submit():
        try:
            remakes.request_remake(unit.id, form.category.data, form.description.data,
                                   fb.adjustments_from(spec, form))
        except remakes.RemakeRejected as exc:
            general = fb.attach_problems(form, exc.problems)
        else:
            flash(f"Your remake request for unit {position} is with our planners.", "success")
            return redirect(url_for("shop.track", token=token, _anchor=f"unit-{position}"))
    return _track_page(placed, {(position, "remake"): form, (position, "general"): general})
