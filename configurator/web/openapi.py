"""The OpenAPI 3.1 document of the partner API, written by hand to say what the code does."""
from __future__ import annotations

_ERROR = {"$ref": "#/components/schemas/Error"}


def _answer(description: str, schema: dict | None = None, headers: dict | None = None) -> dict:
    out: dict = {"description": description,
                 "content": {"application/json": {"schema": schema or _ERROR}}}
    if headers:
        out["headers"] = headers
    return out


_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}

_FORM_FIELDS = {
    "type": "object",
    "description": (
        "One unit: `product`, `option.<id>`, `measure.<id>`, `text.<id>`, `label`. Several "
        "units: `units=<n>` and `unit-<k>.product`, `unit-<k>.option.<id>`, "
        "`unit-<k>.measure.<id>`, `unit-<k>.text.<id>`, `unit-<k>.label` for k = 1..n "
        "(`unit-<k>.product` defaults to `product`). Option, measurement and text ids are "
        "those of the product's spec."),
    "required": ["customer_name", "ship_to.line1", "ship_to.postcode", "ship_to.city",
                 "ship_to.country"],
    "properties": {
        "product": {"type": "string", "example": "shirt"},
        "units": {"type": "integer", "minimum": 1, "maximum": 50},
        "partner_reference": {"type": "string", "maxLength": 200},
        "customer_name": {"type": "string", "maxLength": 200},
        "customer_email": {"type": "string", "format": "email",
                           "description": "Defaults to the partner's contact address."},
        "ship_to.line1": {"type": "string"}, "ship_to.line2": {"type": "string"},
        "ship_to.postcode": {"type": "string"}, "ship_to.city": {"type": "string"},
        "ship_to.country": {"type": "string"},
    },
    "additionalProperties": {"type": "string"},
}

_SCHEMAS = {
    "Error": {"type": "object", "required": ["status", "message"], "properties": {
        "status": {"type": "integer"}, "message": {"type": "string"}}},
    "Problem": {"type": "object", "required": ["field", "rule", "message"], "properties": {
        "field": {"type": ["string", "null"], "example": "unit-2.measure.chest"},
        "rule": {"type": "string", "example": "range"},
        "message": {"type": "string"}}},
    "Rejected": {"type": "object", "properties": {
        "status": {"const": 422}, "message": {"type": "string"},
        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}},
    "Unit": {"type": "object", "properties": {
        "id": {"type": "integer"}, "code": {"type": "string"}, "position": {"type": "integer"},
        "label": {"type": "string"}, "product": {"type": "string"},
        "status": {"type": "string"}, "price": {"type": "string", "example": "89.00"},
        "promised_date": {"type": "string", "format": "date"},
        "design": {"type": "object"}}},
    "Order": {"type": "object", "properties": {
        "id": {"type": "integer"}, "reference": {"type": "string"},
        "partner_reference": {"type": ["string", "null"]}, "url": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "currency": {"type": "string"}, "total": {"type": "string"},
        "promised_date": {"type": "string", "format": "date"},
        "customer": {"type": "object"}, "unit_count": {"type": "integer"},
        "units": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}}}},
    "OrderPage": {"type": "object", "properties": {
        "orders": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}},
        "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "total": {"type": "integer"}, "next": {"type": ["string", "null"]}}},
    "WebhookEvent": {"type": "object", "description": (
        "POSTed to a registered webhook URL on every unit status change (unit.status_changed) "
        "and every step of a remake (remake.requested, remake.approved with the new unit, "
        "remake.declined with the reason), with headers "
        "X-Configurator-Event, X-Configurator-Delivery (the event id; deliveries may repeat) and "
        "X-Configurator-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>' keyed by the "
        "webhook secret>. Answer 2xx; anything else is retried with backoff."),
        "properties": {"id": {"type": "string"}, "type": {"enum": [
            "unit.status_changed", "remake.requested", "remake.approved", "remake.declined"]},
                       "created": {"type": "string"}, "data": {"type": "object"}}},
}

_AUTH_ERRORS = {
    "401": _answer("Missing or unknown API key."),
    "403": _answer("Revoked key or disabled partner."),
    "429": _answer("Over the partner's rate limit.", headers=_RETRY_AFTER),
}


def document(server_url: str) -> dict:
    """The document, with `server_url` (…/partners/v1) as its server."""
    order_id = {"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Partner order intake", "version": "1.0.0", "description": (
            "Submit customers' made-to-measure designs by HTML form post, "
            "authenticated by `Authorization: Bearer pk_live_...`.")},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/orders": {
                "post": {
                    "summary": "Place an order",
                    "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {
                        "type": "string", "maxLength": 255}, "description": (
                        "Retries with the same key and body get the first answer; a different "
                        "body gets 422; a retry while the first is still running waits for its "
                        "answer.")}],
                    "requestBody": {"required": True, "content": {
                        "application/x-www-form-urlencoded": {"schema": _FORM_FIELDS},
                        "multipart/form-data": {"schema": _FORM_FIELDS}}},
                    "responses": {
                        "201": _answer("Placed.", {"$ref": "#/components/schemas/Order"}, {
                            "Location": {"schema": {"type": "string"}}}),
                        "400": _answer("Malformed Idempotency-Key."),
                        "409": _answer("The key is held by a request of an earlier version "
                                       "of the service that is still running.",
                                       headers=_RETRY_AFTER),
                        "413": _answer("The body is too large."),
                        "415": _answer("Not a form post."),
                        "422": _answer("Not accepted, nothing stored; every problem by field "
                                       "(or the key reused with another body).",
                                       {"$ref": "#/components/schemas/Rejected"}),
                        **_AUTH_ERRORS}},
                "get": {
                    "summary": "Your orders, newest first",
                    "parameters": [
                        {"name": "page", "in": "query",
                         "schema": {"type": "integer", "minimum": 1}},
                        {"name": "per_page", "in": "query", "schema": {
                            "type": "integer", "minimum": 1, "maximum": 100}},
                        {"name": "partner_reference", "in": "query",
                         "schema": {"type": "string"}}],
                    "responses": {"200": _answer("A page.", {
                        "$ref": "#/components/schemas/OrderPage"}), **_AUTH_ERRORS}}},
            "/orders/{order_id}": {"get": {
                "summary": "One of your orders",
                "parameters": [order_id],
                "responses": {
                    "200": _answer("The order.", {"$ref": "#/components/schemas/Order"}),
                    "404": _answer("Not one of your orders."), **_AUTH_ERRORS}}},
        },
        "webhooks": {name: {"post": {
            "summary": summary,
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/WebhookEvent"}}}},
            "responses": {"200": {"description": "Received."}}}} for name, summary in (
                ("unitStatusChanged", "unit.status_changed: a unit moved"),
                ("remakeChanged", "remake.requested, remake.approved, remake.declined"))},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _SCHEMAS},
    }
