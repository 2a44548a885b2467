"""Configuration: defaults, then `CONFIGURATOR_*` environment variables, then overrides."""
from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    "SPECS_DIR": str(ROOT / "specs"),
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    # A pooled connection idle this long (seconds) is pinged before use (configurator/pool.py).
    "DATABASE_PING_AFTER_IDLE": 5,
    # Seconds a process may show the shop stock levels it read before reading them again
    # (services/stock.py `levels`); 0: read them for every request. Orders always check the
    # stock as it is, locked.
    "STOCK_LEVELS_MAX_AGE": 1.0,
    "BROKER_URL": None,  # None: render work orders in-process
    # Without a broker: "background" renders what a request asked for on the process's render
    # thread, after the answer; "inline" renders it in the request (tests).
    "RENDER_IN_PROCESS": "background",
    # With a broker: seconds between a render worker's polls for work orders to queue
    # (workorders/dispatch.py); at most this long between an order and its render starting.
    "DISPATCH_INTERVAL": 0.5,
    "STORAGE_DIR": None,  # None: <instance>/workorders
    "SECRET_KEY": None,  # None: a development key, refused when ENV=production
    "ENV": "development",
    "FACTORY_NAME": "Atelier Line 1",
    "PUBLIC_URL": "http://127.0.0.1:5000",
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "PARTNER_RATE_LIMIT": "120 per minute",
    # Seconds a process takes a partner API key it found good at its word (services/partners.py
    # `authenticate`): a key revoked elsewhere is refused everywhere within this; 0: look the
    # key up at every request.
    "PARTNER_KEY_MAX_AGE": 1.0,
    "LOGIN_RATE_LIMIT": "10 per minute",
    # per client address; a shopper changing a field every second stays far below it
    "PROPAGATE_RATE_LIMIT": "300 per minute",
    # Where rate limits are counted. None: in the broker's Redis when BROKER_URL is redis://
    # (one count for every worker and host), else in each process's memory (the embedded default).
    "RATELIMIT_STORAGE_URI": None,
    "PRINT_JOB_KEEP_HOURS": 24,  # merged PDFs and zips of print jobs are deleted after this
    # `configurator serve` (gunicorn); None workers: cores + 1 (`cli_serve.default_workers`)
    "SERVE_BIND": "127.0.0.1:8000",
    "SERVE_WORKERS": None,
    # One thread a worker: a request never waits for the GIL behind another one of its worker
    # (docs/load.md: more orders/s and half the propagate p99 of two threads).
    "SERVE_THREADS": 1,
    "SERVE_TIMEOUT": 60,
    # Proxies in front of the app (load balancer, nginx) whose X-Forwarded-For/-Proto/-Host
    # headers are trusted: the client's address (login rate limit) and https come from them.
    "PROXY_COUNT": 0,
    # Cookies: HttpOnly and SameSite=Lax always; Secure (None: when ENV=production or PUBLIC_URL
    # is https) so a session never travels over plain HTTP.
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": None,
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
