"""JSON endpoints the shop's page calls as the shopper types (backed by `propagate`).

CSRF: `propagate` is a pure read. It changes nothing (no draft, no stock, no session), so a
forged cross-site request gains an attacker nothing, and the browser does not let another
origin read the answer (no CORS here). It is therefore exempt from the app-wide CSRF check,
which also keeps a page left open past the token's lifetime working. It still insists on a
JSON body, so a plain cross-site form cannot even reach the engine. Everything that writes
(saving a draft, ordering) goes through the CSRF-protected forms.
"""
from __future__ import annotations

import json
import time

from flask import Blueprint, abort, current_app, jsonify, request

from ..domain import validate
from ..domain.engine import drop_inactive
from ..domain.validation import applies
from ..domain.settle import settle
from ..extensions import csrf, limiter
from ..preview import render_preview
from ..services import stock
from ..services.orders import normalise_design
from ..specs_registry import catalog
from .forms import design_number, parse_number
from .shop_pages import parse_picked

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/products/<product_id>/propagate")
@csrf.exempt
@limiter.limit(lambda: current_app.config["PROPAGATE_RATE_LIMIT"])
def propagate_design(product_id: str):
    """What is still possible for the design in the body, with the price and a preview."""
    spec = catalog().products.get(product_id) or abort(404)
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        return jsonify(error="Send the design as a JSON object: "
                             '{"options": {...}, "measurements": {...}, "texts": {...}}'), 400
    design, input_errors = _numbers(spec, normalise_design(body.get("design", body)))
    posted, checked = design, validate(spec, design)
    levels = stock.levels_for(spec, design, checked)
    design, whole = drop_inactive(spec, design, levels)
    # "auto": the options the page picked for the shopper; they give way to the shopper's own
    settled = settle(spec, design, _picked(spec, body.get("auto")), levels, whole)
    if settled.changes:
        design, whole = drop_inactive(spec, settled.design, levels)
    answer = whole.as_dict(offered=settled.offered)
    answer["auto"] = {k: v for k, v in settled.auto.items() if k in design["options"]}
    answer["changes"] = [{"option": c.option, "was": c.was, "now": c.now, "message": c.message}
                         for c in settled.changes]
    if design != posted:  # options that do not apply were dropped, or defaults gave way
        checked = validate(spec, design)
    answer["violations"] = checked.as_dict()["violations"] + input_errors
    answer["design"] = design
    answer["texts_active"] = {t.id: applies(spec, t.when, design["options"]) for t in spec.texts}
    answer["preview"] = render_preview(spec, design)
    return jsonify(answer)


def _picked(spec, raw) -> dict[str, str]:
    return parse_picked(json.dumps(raw), spec) if isinstance(raw, dict) else {}


def _numbers(spec, design: dict) -> tuple[dict, list[dict]]:
    """Measurements may arrive as typed ("102,5"); ones that are no number are reported."""
    measurements, errors = {}, []
    for key, raw in design["measurements"].items():
        m = spec.measurement(key) if isinstance(key, str) else None
        value = parse_number(raw, m.unit if m else "")
        if value is None:
            errors.append({"rule": "number", "fields": [f"measurements.{key}"], "message": (
                f"Please enter a number in {m.unit if m else 'the unit shown'}, "
                "like 102 or 102.5.")})
        else:
            measurements[key] = design_number(value)
    return {**design, "measurements": measurements}, errors


@bp.errorhandler(429)
def _too_many(exc):
    """A script hammering the engine is slowed down; a person typing never gets here."""
    limit = limiter.current_limit
    wait = max(1, int(limit.reset_at - time.time())) if limit else 60
    return jsonify(error=f"Too many requests: the limit is {exc.description}. "
                         f"Retry after {wait} seconds."), 429, {"Retry-After": str(wait)}
