"""The admins' console for partners: accounts, API keys, staff logins, webhooks, delivery log.

New key secrets are rendered once in the answer to the POST that made them, never flashed
(the session cookie is signed, not encrypted) and never stored.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import ApiKey, Partner, Webhook, WebhookDelivery
from ..services import partners, webhooks
from ..services.partners import PartnerError
from ..services.webhooks import WebhookError

bp = Blueprint("console", __name__, url_prefix="/console")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not getattr(current_user, "is_admin", False):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _get(model, ident: int):
    return db.session.get(model, ident) or abort(404)


@bp.get("/")
@admin_required
def index():
    return render_template("partners/console_index.html", partners=partners.all_partners())


@bp.post("/")
@admin_required
def create():
    try:
        partner = partners.create_partner(request.form.get("name", ""),
                                          request.form.get("contact_email", ""))
    except PartnerError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    return redirect(url_for(".detail", partner_id=partner.id))


@bp.get("/<int:partner_id>")
@admin_required
def detail(partner_id: int, new_secret: str | None = None):
    partner = _get(Partner, partner_id)
    deliveries = webhooks.recent_deliveries([h.id for h in partner.webhooks])
    return render_template("partners/console_detail.html", partner=partner,
                           deliveries=deliveries, new_secret=new_secret)


@bp.post("/<int:partner_id>/active")
@admin_required
def set_active(partner_id: int):
    partners.set_partner_active(_get(Partner, partner_id), request.form.get("active") == "1")
    return redirect(url_for(".detail", partner_id=partner_id))


@bp.post("/<int:partner_id>/keys")
@admin_required
def issue_key(partner_id: int):
    issued = partners.issue_key(_get(Partner, partner_id), request.form.get("label", ""))
    return detail(partner_id, new_secret=issued.secret)


@bp.post("/keys/<int:key_id>/revoke")
@admin_required
def revoke_key(key_id: int):
    key = _get(ApiKey, key_id)
    partners.revoke_key(key)
    flash(f"Key {key.prefix}… revoked.", "ok")
    return redirect(url_for(".detail", partner_id=key.partner_id))


@bp.post("/keys/<int:key_id>/rotate")
@admin_required
def rotate_key(key_id: int):
    key = _get(ApiKey, key_id)
    try:
        issued = partners.rotate_key(key)
    except PartnerError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".detail", partner_id=key.partner_id))
    return detail(key.partner_id, new_secret=issued.secret)


@bp.post("/<int:partner_id>/staff")
@admin_required
def add_staff(partner_id: int):
    try:
        partners.add_staff(_get(Partner, partner_id), request.form.get("email", ""),
                           request.form.get("password", ""))
        flash("Staff login added.", "ok")
    except PartnerError as exc:
        flash(str(exc), "error")
    return redirect(url_for(".detail", partner_id=partner_id))


@bp.post("/<int:partner_id>/webhooks")
@admin_required
def add_webhook(partner_id: int):
    try:
        webhooks.register(_get(Partner, partner_id), request.form.get("url", ""))
        flash("Webhook added; give the partner its signing secret.", "ok")
    except WebhookError as exc:
        flash(str(exc), "error")
    return redirect(url_for(".detail", partner_id=partner_id))


@bp.post("/webhooks/<int:hook_id>/active")
@admin_required
def webhook_active(hook_id: int):
    hook = _get(Webhook, hook_id)
    webhooks.set_active(hook, request.form.get("active") == "1")
    return redirect(url_for(".detail", partner_id=hook.partner_id))


@bp.post("/deliveries/<int:delivery_id>/retry")
@admin_required
def retry_delivery(delivery_id: int):
    delivery = _get(WebhookDelivery, delivery_id)
    webhooks.retry_now(delivery)
    flash("Delivery queued again.", "ok")
    return redirect(url_for(".detail", partner_id=delivery.webhook.partner_id))
