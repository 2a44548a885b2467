"""C2B order configurator: the Flask application factory."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .config import DEFAULTS, ROOT, from_environment

DEV_SECRET = "dev-only-not-secret"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says which and what to do."""


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: defaults, then environment, then `overrides`."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(DEFAULTS)
    app.config.update(from_environment())
    app.config.update(overrides or {})
    _finish_config(app)
    _init_extensions(app)
    _register_blueprints(app)
    return app


def _finish_config(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    cfg = app.config
    if not cfg.get("SECRET_KEY"):
        if cfg["ENV"] == "production":
            raise ConfigurationError(
                "CONFIGURATOR_SECRET_KEY is not set: production refuses to start without a "
                "secret key. Set it to a long random string (python -c 'import secrets; "
                "print(secrets.token_hex(32))')."
            )
        cfg["SECRET_KEY"] = DEV_SECRET
    url = (cfg.get("DATABASE_URL")
           or "sqlite:///" + os.path.join(app.instance_path, "configurator.db"))
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    options: dict = {}
    if url.startswith("sqlite"):
        # Writers queue for SQLite's one lock; wait up to 30 s (not 5) before giving up, so a
        # burst of orders on the embedded default waits instead of answering "try again".
        options["connect_args"] = {"timeout": 30}
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)
    cfg["STORAGE_DIR"] = cfg.get("STORAGE_DIR") or os.path.join(app.instance_path, "workorders")
    if cfg.get("RENDER_IN_PROCESS") not in ("background", "inline"):
        raise ConfigurationError(
            f"CONFIGURATOR_RENDER_IN_PROCESS is {cfg.get('RENDER_IN_PROCESS')!r}: it must be "
            "'background' (render after the answer, the default) or 'inline' (in the request).")
    for key in ("STOCK_LEVELS_MAX_AGE", "PARTNER_KEY_MAX_AGE"):
        _require_seconds(cfg, key)
    cfg["RATELIMIT_ENABLED"] = cfg.get("RATELIMIT_ENABLED", True)
    cfg["RATELIMIT_STORAGE_URI"] = (cfg.get("RATELIMIT_STORAGE_URI")
                                    or _rate_limit_storage(cfg.get("BROKER_URL")))
    # Should that Redis be out of reach, count in memory meanwhile instead of failing requests.
    cfg.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)


def _require_seconds(cfg, key: str) -> None:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigurationError(
            f"CONFIGURATOR_{key} is {value!r}: it must be a number of seconds, 0 or more.")


def _rate_limit_storage(broker_url: object) -> str:
    """The broker's Redis when there is one, so all workers and hosts share one count of each
    limit; otherwise each process's memory, which is right for one process only."""
    if str(broker_url or "").startswith(("redis://", "rediss://")):
        return str(broker_url)
    return "memory://"


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (registers the tables)
    from .extensions import csrf, db, limiter, login_manager, migrate
    from .pool import ping_when_idle
    from .specs_registry import init_registry
    from .web import security

    db.init_app(app)
    if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        with app.app_context():
            ping_when_idle(db.engine, lambda: float(app.config["DATABASE_PING_AFTER_IDLE"]))
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "planner.login"
    limiter.init_app(app)
    init_registry(app)
    security.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from .cli import register_cli
    from .web import api, errors, groups, partners, planner, planner_feedback, shop

    for module in (shop, api, planner, planner_feedback, partners, groups):
        app.register_blueprint(module.bp)
    errors.register(app)
    register_cli(app)
