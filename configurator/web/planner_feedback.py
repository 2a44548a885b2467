"""The planner console's after-delivery pages, behind the same login: the remake queue
(approve or decline with a reason) and what customers' ratings and remakes say."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..extensions import login_manager
from ..services import feedback, remakes
from .feedback_forms import change_rows

bp = Blueprint("planner_feedback", __name__, url_prefix="/planner")


@bp.before_request
def _require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()


class DecisionForm(FlaskForm):
    note = TextAreaField("Reason (the customer reads it)", validators=[
        Length(max=remakes.MAX_TEXT)], render_kw={"rows": 2, "maxlength": remakes.MAX_TEXT})


@bp.get("/remakes")
def remakes_queue():
    waiting, decided = remakes.remake_queue()
    return render_template("planner/remakes.html", waiting=waiting, decided=decided,
                           changes=change_rows, form_for=_decision_form)


def _decision_form(request_id: int) -> DecisionForm:
    return DecisionForm(prefix=f"r{request_id}")


@bp.post("/remakes/<int:request_id>/<any(approve, decline):decision>")
def decide(request_id: int, decision: str):
    form = _decision_form(request_id)
    if not form.validate_on_submit():
        flash("The form was out of date or the reason too long; please try again.", "error")
        return redirect(url_for("planner_feedback.remakes_queue"))
    try:
        if decision == "approve":
            unit = remakes.approve_remake(request_id, current_user, form.note.data or "")
            flash(f"Remake approved: unit {unit.code} is queued; its work order is rendering.",
                  "success")
        else:
            remakes.decline_remake(request_id, current_user, form.note.data or "")
            flash("Remake declined; the customer sees your reason.", "success")
    except remakes.RemakeRejected as exc:
        flash(str(exc.problems[0].message if exc.problems else exc), "error")
    return redirect(url_for("planner_feedback.remakes_queue", _anchor=f"request-{request_id}"))


@bp.get("/feedback")
def statistics():
    months = feedback.monthly_ratings()
    return render_template(
        "planner/feedback.html", months=months, charts=rating_charts(months),
        stats=feedback.remake_statistics(), comments=feedback.recent_comments())


# -- a small bar chart per product, drawn on the server (no script) ---------------------------

BAR, GAP, HEIGHT, TOP, AXIS = 10, 14, 100, 8, 28
SERIES = (("fit", "#1f3a64"), ("quality", "#1b6b3a"), ("delivery", "#b5651d"))
MAX_MONTHS = 12
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def rating_charts(months: list[feedback.MonthRatings]) -> list[dict]:
    """Per product, the last twelve months' average ratings as SVG bar geometry."""
    by_product: dict[str, list] = {}
    for m in months:
        by_product.setdefault(m.product_id, []).append(m)
    return [_chart(product, rows[-MAX_MONTHS:]) for product, rows in by_product.items()]


def _month_label(month: str) -> str:
    """"2026-03" -> "Mar 26"."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year[2:]}"


def _chart(product_id: str, rows: list) -> dict:
    group = len(SERIES) * BAR + GAP
    bars, labels = [], []
    for i, row in enumerate(rows):
        x0 = AXIS + i * group
        for j, (name, colour) in enumerate(SERIES):
            value = getattr(row, name)
            height = float(value) / 5 * HEIGHT
            bars.append({"x": x0 + j * BAR, "y": TOP + HEIGHT - height, "w": BAR - 1,
                         "h": height, "fill": colour,
                         "title": f"{row.month} {name}: {value} of 5 ({row.count} rated)"})
        labels.append({"x": x0 + len(SERIES) * BAR / 2, "text": _month_label(row.month)})
    return {"product_id": product_id, "bars": bars, "labels": labels, "series": SERIES,
            "width": AXIS + len(rows) * group, "height": TOP + HEIGHT + 16,
            "grid": [{"y": TOP + HEIGHT - n / 5 * HEIGHT, "n": n} for n in range(1, 6)],
            "bottom": TOP + HEIGHT}
