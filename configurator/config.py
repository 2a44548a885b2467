"""Configuration: defaults, then `CONFIGURATOR_*` environment variables, then overrides."""
from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    "SPECS_DIR": str(ROOT / "specs"),
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    "BROKER_URL": None,  # None: render work orders in-process
    "STORAGE_DIR": None,  # None: <instance>/workorders
    "SECRET_KEY": None,  # None: a development key, refused when ENV=production
    "ENV": "development",
    "FACTORY_NAME": "Atelier Line 1",
    "PUBLIC_URL": "http://127.0.0.1:5000",
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "PARTNER_RATE_LIMIT": "120 per minute",
    "LOGIN_RATE_LIMIT": "10 per minute",
    # per client address; a shopper changing a field every second stays far below it
    "PROPAGATE_RATE_LIMIT": "300 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
}


def _parse(value: str) -> object:
    """Environment values are strings; accept JSON literals (numbers, booleans) too."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def from_environment(environ: dict[str, str] | None = None) -> dict[str, object]:
    """Read every `CONFIGURATOR_<NAME>` variable as the setting `<NAME>`."""
    environ = os.environ if environ is None else environ
    prefix = "CONFIGURATOR_"
    return {k[len(prefix):]: _parse(v) for k, v in environ.items() if k.startswith(prefix)}
