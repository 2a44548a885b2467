"""JSON Schemas the spec files are checked against before anything else reads them."""
from __future__ import annotations

_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64}
_PRODUCT_ID = {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 64}
_MONEY = {"anyOf": [{"type": "string", "pattern": r"^-?\d+(\.\d{1,4})?$"}, {"type": "number"}]}
_NUMBER = {"type": "number"}
_EXPR = {"anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}, {"type": "boolean"}]}
_TEXT = {"type": "string"}
_COLOUR = {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}


def _obj(required: list[str], properties: dict) -> dict:
    return {"type": "object", "required": required, "properties": properties,
            "additionalProperties": False}


CHOICE = _obj(["id", "label"], {
    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$", "maxLength": 64},
    "label": _TEXT, "help": _TEXT, "price": _MONEY, "colour": _COLOUR,
    "material": {"type": "string"},
    "attributes": {"type": "object", "additionalProperties": {
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}},
})

OPTION = _obj(["id", "label", "choices"], {
    "id": _ID, "label": _TEXT, "help": _TEXT, "group": _TEXT,
    "required": {"type": "boolean"}, "default": {"type": "string"},
    "display": {"enum": ["radio", "swatch", "select"]}, "when": _EXPR,
    "choices": {"type": "array", "minItems": 1, "items": CHOICE},
})

MEASUREMENT = _obj(["id", "label", "unit", "min", "max", "step"], {
    "id": _ID, "label": _TEXT, "unit": _TEXT, "help": _TEXT, "group": _TEXT,
    "min": _NUMBER, "max": _NUMBER, "step": {"type": "number", "exclusiveMinimum": 0},
    "typical": _NUMBER,
})

TEXT_INPUT = _obj(["id", "label", "max_length", "allowed"], {
    "id": _ID, "label": _TEXT, "help": _TEXT, "required": {"type": "boolean"},
    "max_length": {"type": "integer", "minimum": 1, "maximum": 500},
    "allowed": {"type": "string", "minLength": 1}, "when": _EXPR,
})

RULE = {
    **_obj(["id", "message"], {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$", "maxLength": 64},
        "message": {"type": "string", "minLength": 1},
        "when": _EXPR, "require": _EXPR, "forbid": _EXPR,
    }),
    "oneOf": [{"required": ["require"]}, {"required": ["forbid"]}],
}

PRODUCT = _obj(["product"], {
    "product": _obj(["id", "name", "currency", "base_price", "lead_time_days"], {
        "id": _PRODUCT_ID, "name": _TEXT, "description": _TEXT,
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "base_price": _MONEY, "lead_time_days": {"type": "integer", "minimum": 0},
        "preview": _TEXT, "image": _TEXT,
    }),
    "options": {"type": "array", "items": OPTION},
    "measurements": {"type": "array", "items": MEASUREMENT},
    "texts": {"type": "array", "items": TEXT_INPUT},
    "rules": {"type": "array", "items": RULE},
    "surcharges": {"type": "array", "items": _obj(["id", "label", "amount"], {
        "id": _ID | {"pattern": "^[a-z0-9][a-z0-9_-]*$"}, "label": _TEXT, "amount": _EXPR,
        "when": _EXPR})},
    "volume_tiers": {"type": "array", "items": _obj(["min_units", "percent_off"], {
        "min_units": {"type": "integer", "minimum": 2}, "percent_off": _MONEY})},
    "materials": {"type": "array", "items": _obj(["id", "name", "unit", "unit_cost", "stock"], {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}, "name": _TEXT,
        "unit": _TEXT, "unit_cost": _MONEY, "stock": {"type": "number", "minimum": 0}})},
    "usage": {"type": "array", "items": {
        **_obj(["quantity"], {"material": {"type": "string"}, "material_of": _ID,
                              "quantity": _EXPR, "when": _EXPR, "note": _TEXT}),
        "oneOf": [{"required": ["material"]}, {"required": ["material_of"]}]}},
    "operations": {"type": "array", "items": _obj(["station", "name", "minutes"], {
        "station": {"type": "string"}, "name": _TEXT, "minutes": _EXPR, "when": _EXPR})},
})

LINE = _obj(["line", "stations"], {
    "line": _obj(["id", "name", "working_days"], {
        "id": {"type": "string"}, "name": _TEXT,
        "working_days": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {
            "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
        "holidays": {"type": "array", "items": {"type": "string", "format": "date",
                                                "pattern": r"^\d{4}-\d{2}-\d{2}$"}},
    }),
    "stations": {"type": "array", "minItems": 1, "items": _obj(
        ["id", "name", "minutes_per_day", "labour_rate"], {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}, "name": _TEXT,
            "minutes_per_day": {"type": "integer", "minimum": 1}, "labour_rate": _MONEY})},
})
