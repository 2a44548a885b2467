"""The planner's console, behind a login: units, work orders, printing, progress, materials."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect,
                   render_template, request, send_file, url_for)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter, login_manager
from ..models import Unit, User
from ..services import planning
from ..services.progress import unit_steps
from ..services.units import InvalidTransition, advance_unit, next_step
from ..specs_registry import catalog
from ..workorders import printing
from ..workorders.storage import storage
from .planner_forms import (ActionForm, AdvanceForm, LoginForm, MaterialsForm, PrintForm,
                            UnitFilterForm, choices)

bp = Blueprint("planner", __name__, url_prefix="/planner")


@bp.record_once
def _setup(state) -> None:
    from ..workorders import render, tasks

    tasks.init_app(state.app)
    render.warn_if_slow()


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdecimal() else None


@bp.before_request
def _require_login():
    if request.endpoint != "planner.login" and not current_user.is_authenticated:
        return login_manager.unauthorized()


def _safe_next(target: str | None) -> str:
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/planner"):
        return target
    return url_for("planner.units")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(User.email == form.email.data.strip().lower())).scalar_one_or_none()
        if user and user.is_active and user.check_password(form.password.data):
            login_user(user)
            return redirect(_safe_next(form.next.data))
        flash("Wrong email or password.", "error")
    return render_template("planner/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
def logout():
    if ActionForm().validate_on_submit():
        logout_user()
    return redirect(url_for("planner.login"))


def _filter_form() -> UnitFilterForm:
    form = UnitFilterForm(request.args)
    steps = {s for p in catalog().products.values() for s in (st.id for st in p.line.stations)}
    form.status.choices = choices(list(dict.fromkeys(
        ["queued", *sorted(steps), "qc", "packed", "shipped"])))
    form.product.choices = choices(sorted(catalog().products))
    form.station.choices = choices(sorted(steps))
    return form


def _unit_filter(form: UnitFilterForm) -> planning.UnitFilter:
    form.validate()
    data = {k: v for k, v in form.data.items() if not form[k].errors}
    dates = ("promised_from", "promised_to")
    return planning.UnitFilter(**{k: v or (None if k in dates else "") for k, v in data.items()})


@bp.get("/")
def units():
    form = _filter_form()
    page = planning.page_of_units(_unit_filter(form), request.args.get("page", 1, type=int))
    return render_template("planner/units.html", form=form, page=page, units=page.items,
                           print_form=PrintForm(), failed=_failed_count())


def _failed_count() -> int:
    return planning.count_units(planning.UnitFilter(work_order="failed"))


@bp.get("/orders")
def orders():
    return render_template("planner/orders.html", orders=planning.list_orders(
        request.args.get("sort", "-created"), request.args.get("product", "")))


def _unit_or_404(code: str) -> Unit:
    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    return unit if unit is not None else abort(404)


@bp.get("/units/<code>")
def unit(code: str):
    found = _unit_or_404(code)
    step, steps = next_step(found), unit_steps(found.routing)
    ids = [s for s, _ in steps]
    back = steps[:ids.index(found.status)] if found.status in ids else []
    return render_template(
        "planner/unit.html", unit=found, steps=steps, next_step=step, back_steps=back,
        advance_form=AdvanceForm(to_status=step[0] if step else "", expected_status=found.status),
        action_form=ActionForm())


@bp.post("/units/<code>/advance")
def advance(code: str):
    found, form = _unit_or_404(code), AdvanceForm()
    if form.validate_on_submit():
        try:
            advance_unit(found.id, form.to_status.data, actor=current_user,
                         expected_status=form.expected_status.data or None, note=form.note.data)
            flash(f"{found.code} moved to {form.to_status.data}.", "success")
        except InvalidTransition as exc:
            flash(str(exc), "error")
    return redirect(url_for("planner.unit", code=code))


@bp.post("/units/<code>/render")
def rerender(code: str):
    from ..workorders.queue import render_again

    found = _unit_or_404(code)
    if ActionForm().validate_on_submit():
        render_again(found.id)
        flash(f"The work order of {found.code} was sent to the renderer.", "success")
    return redirect(url_for("planner.unit", code=code))


@bp.get("/units/<code>/workorder.json")
def work_order_state(code: str):
    """The work order's state: the unit's page polls it while the work order renders."""
    work_order = _unit_or_404(code).work_order
    if work_order is None:
        return jsonify({"status": "missing", "attempts": 0, "error": ""})
    return jsonify({"status": work_order.status, "attempts": work_order.attempts or 0,
                    "error": work_order.error or ""})


@bp.get("/units/<code>/workorder.pdf")
def work_order_pdf(code: str):
    found = _unit_or_404(code)
    paper = request.args.get("paper", "").upper()
    if paper and paper != current_app.config.get("WORKORDER_PAPER", "A4").upper():
        return _work_order_on(found, paper)
    work_order = found.work_order
    if work_order is None or work_order.status != "done" or not storage().exists(work_order.path):
        state = work_order.status if work_order else "missing"
        flash(f"The work order of {found.code} is not rendered yet ({state}).", "error")
        return redirect(url_for("planner.unit", code=code))
    return send_file(storage().path(work_order.path), mimetype="application/pdf",
                     download_name=f"{found.code}.pdf", as_attachment=False)


def _work_order_on(unit: Unit, paper: str) -> Response:
    """The same traveller on the other paper size, rendered now from the stored snapshot."""
    from ..workorders.context import work_order_context
    from ..workorders.render import PAPERS, html_to_pdf, render_work_order_html

    if paper not in PAPERS:
        abort(400)
    context = work_order_context(unit, factory=current_app.config["FACTORY_NAME"],
                                 public_url=current_app.config["PUBLIC_URL"])
    return Response(html_to_pdf(render_work_order_html(context), paper), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{unit.code}-{paper}.pdf"'})


@bp.post("/print")
def start_print():
    form = PrintForm()
    if not form.validate_on_submit():
        flash("Choose units or a number of days, then print.", "error")
        return redirect(url_for("planner.units"))
    ids = [int(i) for i in request.form.getlist("unit") if i.isdecimal()]
    if form.days.data is not None and not ids:
        ids = [u.id for u in planning.units_due(form.days.data)]
    if not ids:
        flash("No units selected (or none due in that many days).", "error")
        return redirect(url_for("planner.units"))
    job_id = printing.start_print_job(ids, form.format.data, current_user.id)
    return redirect(url_for("planner.print_job", job_id=job_id))


def _own_job(job_id: str) -> dict:
    state = printing.job_state(job_id)
    if state is None or state["user_id"] != current_user.id:
        abort(404)
    return state


@bp.get("/print/<job_id>")
def print_job(job_id: str):
    return render_template("planner/print_job.html", job=_own_job(job_id))


@bp.get("/print/<job_id>.json")
def print_job_state(job_id: str):
    state = _own_job(job_id)
    return jsonify({k: state[k] for k in ("status", "done", "total", "error", "format")})


@bp.get("/print/<job_id>/download")
def print_job_download(job_id: str):
    state = _own_job(job_id)
    if state["status"] != "done":
        abort(409)
    fmt = state["format"]
    return send_file(storage().path(printing.result_key(job_id, fmt)),
                     mimetype=printing.FORMATS[fmt], as_attachment=True,
                     download_name=f"work-orders-{state['created'][:10]}.{fmt}")


@bp.get("/materials")
def materials():
    form = MaterialsForm(request.args)
    form.validate()
    start = form.start.data or date.today()
    end = form.end.data or start + timedelta(days=14)
    return render_template("planner/materials.html", form=form, start=start, end=end,
                           needs=planning.material_requirements(start, end))


@bp.get("/export/units.csv")
def export_units():
    text = planning.units_csv(planning.list_units(_unit_filter(_filter_form()), limit=100_000))
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=units.csv"})


@bp.get("/export/orders.csv")
def export_orders():
    return Response(planning.orders_csv(planning.list_orders()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=orders.csv"})
