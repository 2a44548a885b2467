"""Partner intake: form posts authenticated by API key (`/partners/v1`), and the staff's page.

The API answers JSON only, errors included, and is exempt from CSRF: it is authenticated by the
bearer key, never by a cookie. The staff page is the same form by hand, behind a staff login and
CSRF.
"""
from __future__ import annotations

import json
import time
from decimal import Decimal

from flask import (Blueprint, Response, abort, current_app, jsonify, redirect, render_template,
                   request, session, url_for)
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from ..extensions import csrf, db, limiter
from ..models import Order, PartnerStaff
from ..services import idempotency, intake, partners
from ..services.idempotency import Answer, IdempotencyConflict
from ..services.partners import AuthenticationFailed
from ..specs_registry import catalog
from . import openapi, partners_console

bp = Blueprint("partners", __name__, url_prefix="/partners")
api = Blueprint("api", __name__, url_prefix="/v1")
csrf.exempt(api)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, headers or {}, extra


def _rate_key() -> str:
    """Limits count per partner; requests without a valid key count per address."""
    partner = _partner(required=False)
    return f"partner:{partner.id}" if partner else f"ip:{get_remote_address()}"


partner_limit = limiter.shared_limit(lambda: current_app.config["PARTNER_RATE_LIMIT"],
                                     scope="partner-api", key_func=_rate_key)


@api.before_request
def _look_up_key() -> None:
    """Look the key up before the rate limit asks for its partner. A database error here is
    answered 503 like any other; inside the limiter it would be taken for the limit store
    failing, and the limiter would try again on a session the error had left unusable (a 500)."""
    _partner(required=False)


def _partner(required: bool = True):
    """The partner of this request's key (looked up once per request: the limiter asks too)."""
    env = request.environ
    if "configurator.partner" not in env:
        try:
            env["configurator.partner"] = partners.authenticate(
                request.headers.get("Authorization"))
        except AuthenticationFailed as exc:
            env["configurator.partner"] = exc
    found = env["configurator.partner"]
    if isinstance(found, AuthenticationFailed):
        if not required:
            return None
        headers = {"WWW-Authenticate": 'Bearer realm="partners"'} if found.status == 401 else {}
        raise ApiError(found.status, found.message, headers)
    return found


def _posted() -> tuple[dict[str, list[str]], tuple[str, ...]]:
    """The form as posted; 415 for anything that is not a form."""
    if request.mimetype not in FORM_TYPES:
        raise ApiError(415, "Send the order as application/x-www-form-urlencoded or "
                            "multipart/form-data (an HTML form post).")
    # A malformed multipart part can come without a name; keep it (as "") to report it.
    fields = {name or "": values for name, values in request.form.to_dict(flat=False).items()}
    return fields, tuple(name or "" for name in request.files)


@api.post("/orders")
@partner_limit
def create_order():
    partner = _partner()
    values, files = _posted()
    key = request.headers.get("Idempotency-Key")
    if key is None:
        placed = _submit(partner, values, files)
        return _respond(_created(placed) if isinstance(placed, Order) else placed)
    if reason := idempotency.check_key(key):
        raise ApiError(400, reason)
    fingerprint = idempotency.fingerprint(values, {name: b"" for name in files})
    answer = idempotency.run_once(partner.id, key, fingerprint,
                                  lambda record: _submit(partner, values, files, record), _created)
    return _respond(answer)


def _submit(partner, values, files, before_commit=None) -> Order | Answer:
    """The placed order, or the 422 answer naming every problem."""
    try:
        return intake.submit(partner, values, files, before_commit)
    except intake.IntakeRejected as exc:
        return Answer(422, json.dumps({
            "status": 422, "message": "The order was not accepted; nothing was stored. "
            "Fix every problem listed and post again.",
            "problems": [p.as_dict() for p in exc.problems]}))


def _created(order: Order) -> Answer:
    location = url_for("partners.api.get_order", order_id=order.id, _external=True)
    return Answer(201, json.dumps(order_json(order)), {"Location": location})


def _respond(answer: Answer) -> Response:
    response = current_app.response_class(answer.body, status=answer.status,
                                          mimetype="application/json")
    response.headers.update(answer.headers)
    return response


@api.get("/orders/<int:order_id>")
@partner_limit
def get_order(order_id: int):
    order = partners.partner_order(_partner().id, order_id)
    if order is None:
        raise ApiError(404, f"You have no order {order_id}.")
    return jsonify(order_json(order))


@api.get("/orders")
@partner_limit
def list_orders():
    partner = _partner()
    page = request.args.get("page", "1")
    per_page = request.args.get("per_page", "20")
    if not (page.isdecimal() and per_page.isdecimal()
            and int(page) >= 1 and 1 <= int(per_page) <= 100):
        raise ApiError(400, "page must be 1 or more and per_page from 1 to 100.")
    orders, total = partners.partner_orders(partner.id, int(page), int(per_page),
                                            request.args.get("partner_reference"))
    more = int(page) * int(per_page) < total
    return jsonify({
        "orders": [order_json(o, units=False) for o in orders], "page": int(page),
        "per_page": int(per_page), "total": total,
        "next": url_for(".list_orders", page=int(page) + 1, per_page=per_page, _external=True)
        if more else None})


@api.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document(url_for(".create_order", _external=True).rsplit("/", 1)[0]))


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def order_json(order: Order, units: bool = True) -> dict:
    """What a partner sees of its order (plain values, the same for POST and GET)."""
    out = {
        "id": order.id, "reference": order.reference, "partner_reference": order.partner_reference,
        "url": url_for("partners.api.get_order", order_id=order.id, _external=True),
        "created_at": order.created_at.isoformat() + "Z", "currency": order.currency,
        "total": _money(order.total), "promised_date": order.promised_date.isoformat(),
        "customer": {"name": order.customer_name, "email": order.email, "address": order.address},
        "unit_count": len(order.units),
    }
    if units:
        out["units"] = [{
            "id": u.id, "code": u.code, "position": u.position, "label": u.label,
            "product": u.product_id, "status": u.status, "price": _money(u.price),
            "promised_date": u.promised_date.isoformat(), "design": u.design,
        } for u in order.units]
    return out


@api.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body = {"status": exc.status, "message": exc.message, **exc.extra}
    return jsonify(body), exc.status, exc.headers


@api.errorhandler(IdempotencyConflict)
def _idempotency_conflict(exc: IdempotencyConflict):
    headers = {"Retry-After": "1"} if exc.status == 409 else {}
    return _api_error(ApiError(exc.status, exc.message, headers))


@api.errorhandler(429)
def _too_many(exc):
    limit = limiter.current_limit
    wait = max(1, int(limit.reset_at - time.time())) if limit else 60
    return _api_error(ApiError(429, f"Too many requests: the limit is {exc.description}. Retry "
                                    f"after {wait} seconds.", {"Retry-After": str(wait)}))


@api.errorhandler(413)
def _too_large(_exc):
    size = current_app.config["MAX_CONTENT_LENGTH"]
    return _api_error(ApiError(413, f"The body is larger than {size} bytes; send fewer or "
                                    "shorter fields, or split the order."))


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _api_error(ApiError(exc.code or 500, exc.description or exc.name))


bp.register_blueprint(api)
bp.register_blueprint(partners_console.bp)


# -- the partner's staff: the same form by hand --------------------------------------------

def _staff() -> PartnerStaff | None:
    staff_id = session.get("partner_staff_id")
    staff = db.session.get(PartnerStaff, staff_id) if isinstance(staff_id, int) else None
    return staff if staff is not None and staff.active and staff.partner.active else None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        staff = partners.check_staff_login(request.form.get("email", ""),
                                           request.form.get("password", ""))
        if staff is not None:
            session.clear()
            session["partner_staff_id"] = staff.id
            return redirect(url_for(".new_order"))
        error = "That email and password do not match a staff login."
    return render_template("partners/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    session.pop("partner_staff_id", None)
    return redirect(url_for(".login"))


@bp.route("/orders/new", methods=["GET", "POST"])
def new_order():
    staff = _staff()
    if staff is None:
        return redirect(url_for(".login"))
    products = catalog().products
    spec = products.get(request.values.get("product", ""))
    if request.method == "GET" or spec is None:
        return render_template("partners/new_order.html", products=products.values(), spec=spec,
                               values={}, problems={}, partner=staff.partner.name)
    values = {k: v for k, v in request.form.to_dict(flat=False).items() if k != "csrf_token"}
    try:
        order = intake.submit(staff.partner, values)
    except intake.IntakeRejected as exc:
        problems: dict = {}
        for p in exc.problems:
            problems.setdefault(p.field or "", []).append(p.message)
        return render_template("partners/new_order.html", products=products.values(), spec=spec,
                               values=request.form, problems=problems,
                               partner=staff.partner.name), 422
    return redirect(url_for(".staff_order", order_id=order.id))


@bp.get("/orders/<int:order_id>")
def staff_order(order_id: int):
    staff = _staff()
    if staff is None:
        return redirect(url_for(".login"))
    order = partners.partner_order(staff.partner_id, order_id)
    if order is None:
        abort(404)
    return render_template("partners/order.html", order=order_json(order),
                           partner=staff.partner.name)
