"""Fixtures: a real app on a real database (SQLite per test, or PostgreSQL when
CONFIGURATOR_TEST_DATABASE_URL is set), a test client, and small factories."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from configurator import create_app
from configurator.config import ROOT
from configurator.extensions import db as _db

FIXTURES = Path(__file__).parent / "fixtures"
TEST_DATABASE_URL = os.environ.get("CONFIGURATOR_TEST_DATABASE_URL")


def _reset_postgres(app) -> None:
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.create_all()


@pytest.fixture
def app_config(tmp_path) -> dict:
    """Overrides for the app under test; tests may update it before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.db'}",
        "STORAGE_DIR": str(tmp_path / "storage"),
        "SPECS_DIR": str(ROOT / "specs"),
        "RATELIMIT_STORAGE_URI": "memory://",
        # The work orders of an order are there when its request returns (the default renders
        # them after the answer: tests/test_workorders_background.py).
        "RENDER_IN_PROCESS": "inline",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    if TEST_DATABASE_URL:
        _reset_postgres(app)
    else:
        with app.app_context():
            _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        if TEST_DATABASE_URL:
            _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def catalog(app):
    return app.extensions["catalog"]


def csrf_from(html: str | bytes) -> str:
    """The CSRF token of the first form in a page, as a browser would send it back."""
    text = html.decode() if isinstance(html, bytes) else html
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', text)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def specs_copy(tmp_path) -> Path:
    """A writable copy of the shipped specs, for tests that break or change one."""
    target = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", target)
    return target


# -- shop and order service (issue 3) -------------------------------------------------------

def complete_design(spec, options: dict | None = None) -> dict:
    """A valid design for `spec`, found through the engine (see `demo.example_design`)."""
    from configurator.demo import example_design
    from configurator.domain import validate

    design = example_design(spec, options)
    result = validate(spec, design)
    assert result.valid, result.as_dict()
    return design


@pytest.fixture
def customer():
    from configurator.services.orders import CustomerDetails

    return CustomerDetails(name="Ana Sousa", email="ana@example.com",
                           address="Rua das Flores 12\n4050-262 Porto\nPortugal")


@pytest.fixture
def live_server(app):
    """The app served by werkzeug (threaded) on a free port of 127.0.0.1."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def redis_up() -> bool:
    """Is the local Redis (127.0.0.1:6379) there for tests that run real Celery workers?"""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


# -- the browser (headless Chromium through Playwright) --------------------------------------

CHROMIUM = "/usr/bin/chromium"
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=(
        "needs the system Chromium at /usr/bin/chromium (./dev test installs the 'chromium' "
        "package)")),
]


@pytest.fixture
def browser():
    """The system Chromium, headless; each person in a test gets their own `new_tab`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield launched
        launched.close()


def new_tab(browser, width: int = 1280, height: int = 900):
    """A page in a fresh browser profile (its own cookies), 15 s for each wait."""
    tab = browser.new_context(viewport={"width": width, "height": height}).new_page()
    tab.set_default_timeout(15_000)
    return tab
