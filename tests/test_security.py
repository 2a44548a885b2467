"""Hardening: security headers on every response, cookie flags, the login rate limit (and its
page), client addresses behind a trusted proxy, and pages that break no rule of the strict
Content-Security-Policy in a real browser."""
from __future__ import annotations

import os
import re

import pytest

from configurator import create_app
from configurator.extensions import db as _db
from configurator.web.security import CONTENT_SECURITY_POLICY
from conftest import csrf_from, redis_up
from workorders_support import PASSWORD, log_in, make_user, place

CHROMIUM = "/usr/bin/chromium"
STRICT = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
          "Referrer-Policy": "same-origin"}


def _production(app_config, **more):
    """An app with ENV=production on the test's database (tables made by the `app` fixture)."""
    return create_app({**app_config, "ENV": "production", **more})


# -- headers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/products/suit", "/static/css/site.css",
                                  "/planner/login", "/partners/login", "/no-such-page",
                                  "/partners/v1/orders"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    for name, value in STRICT.items():
        assert response.headers[name] == value, name


def test_the_policy_refuses_inline_code_plugins_and_framing():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == directives["style-src"] == "'self'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert directives["object-src"] == directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'self'"


def test_json_answers_carry_the_headers_too(client, catalog):
    response = client.post("/api/products/suit/propagate", json={"options": {}})
    assert response.is_json
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_in_production(app, app_config):
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers
    production = _production(app_config).test_client().get("/")
    assert production.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# -- cookies ---------------------------------------------------------------------------------

def _session_cookie(client) -> str:
    """The Set-Cookie of a page that starts a session (the login form's CSRF token)."""
    response = client.get("/planner/login")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[0]


def test_session_cookie_is_httponly_and_samesite_lax_but_not_secure_in_development(client):
    cookie = _session_cookie(client)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development runs on http://127.0.0.1


def test_session_cookie_is_secure_in_production(app, app_config):
    cookie = _session_cookie(_production(app_config).test_client())
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_when_the_public_url_is_https(app, app_config):
    https = create_app({**app_config, "PUBLIC_URL": "https://shop.example"})
    assert "Secure" in _session_cookie(https.test_client())


def test_remember_cookie_follows_the_same_rules(app, app_config):
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] is False
    assert _production(app_config).config["REMEMBER_COOKIE_SECURE"] is True


def test_an_explicit_cookie_setting_wins(app_config):
    app = create_app({**app_config, "ENV": "production", "SESSION_COOKIE_SECURE": False})
    assert app.config["SESSION_COOKIE_SECURE"] is False


# -- login rate limit ------------------------------------------------------------------------

LOGINS = {
    "planner": ("/planner/login", "planner@example.com"),
    "partner staff": ("/partners/login", "desk@acme.example"),
}


@pytest.fixture
def app_config(app_config):
    app_config["LOGIN_RATE_LIMIT"] = "3 per minute"
    return app_config


def _try_login(client, path, email, address="127.0.0.1", headers=None):
    page = client.get(path, environ_base={"REMOTE_ADDR": address}, headers=headers)
    return client.post(path, data={"email": email, "password": "not the password",
                                   "csrf_token": csrf_from(page.data)},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


@pytest.mark.parametrize("who", LOGINS)
def test_login_posts_are_limited_with_a_page_that_says_when_to_retry(app, who):
    path, email = LOGINS[who]
    client = app.test_client()
    for _ in range(3):
        assert _try_login(client, path, email).status_code == 401
    refused = _try_login(client, path, email)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 61
    html = refused.get_data(as_text=True)
    assert "Too many attempts" in html and f"wait <strong>{wait} second" in html
    assert f'href="{path}"' in html
    assert refused.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    # only POSTs count: the form itself still opens
    assert client.get(path).status_code == 200


def test_the_limit_is_per_client_address(app):
    path, email = LOGINS["planner"]
    client = app.test_client()
    for _ in range(4):
        last = _try_login(client, path, email, address="10.0.0.1")
    assert last.status_code == 429
    assert _try_login(client, path, email, address="10.0.0.2").status_code == 401


def test_a_forged_forwarded_for_header_does_not_escape_the_limit(app):
    path, email = LOGINS["planner"]
    client = app.test_client()
    codes = [_try_login(client, path, email, headers={"X-Forwarded-For": f"192.0.2.{i}"})
             .status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_limit_follows_the_forwarded_client(app, app_config):
    proxied = create_app({**app_config, "PROXY_COUNT": 1})
    path, email = LOGINS["planner"]
    client = proxied.test_client()
    shopper = {"X-Forwarded-For": "198.51.100.7"}
    codes = [_try_login(client, path, email, address="10.0.0.9", headers=shopper).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    other = {"X-Forwarded-For": "198.51.100.8"}  # same load balancer, another person
    assert _try_login(client, path, email, address="10.0.0.9", headers=other).status_code == 401


# -- where the limits are counted ------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_limits_are_counted_in_the_brokers_redis_or_else_in_memory(app_config):
    unset = {**app_config, "RATELIMIT_STORAGE_URI": None}  # the tests pin memory://
    assert create_app(unset).config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert create_app({**unset, "BROKER_URL": REDIS_URL}).config[
        "RATELIMIT_STORAGE_URI"] == REDIS_URL
    explicit = create_app({**unset, "BROKER_URL": REDIS_URL, "RATELIMIT_STORAGE_URI": "memory://"})
    assert explicit.config["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.skipif(not redis_up(), reason="needs Redis on 127.0.0.1:6379")
def test_workers_sharing_a_redis_broker_share_one_count(app, app_config):
    """Two app instances stand for two gunicorn workers (or two hosts): three failed logins
    spread over both use up the limit of three for both."""
    shared = {**app_config, "BROKER_URL": REDIS_URL, "RATELIMIT_STORAGE_URI": None,
              "RATELIMIT_KEY_PREFIX": f"test-{os.getpid()}-{os.urandom(4).hex()}"}
    first, second = create_app(shared).test_client(), create_app(shared).test_client()
    path, email = LOGINS["planner"]
    codes = [_try_login(client, path, email).status_code
             for client in (first, second, first, second, first)]
    assert codes == [401, 401, 401, 429, 429]


def test_an_unreachable_limit_store_still_limits_in_memory(app, app_config):
    """Redis down (nothing listens on port 1): logins are still answered, and still limited,
    each process counting for itself until Redis is back."""
    client = create_app({**app_config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}
                        ).test_client()
    path, email = LOGINS["planner"]
    codes = [_try_login(client, path, email).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_a_successful_login_still_works_under_the_limit(app):
    with app.app_context():
        make_user()
    assert log_in(app.test_client()).status_code == 302


# -- the policy in a real browser ------------------------------------------------------------

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def browser_page():
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs the system Chromium at /usr/bin/chromium (./dev test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(REPORT_VIOLATIONS)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        tab.csp_errors = []
        tab.on("console", lambda m: tab.csp_errors.append(m.text) if m.type == "error" and (
            "Content Security Policy" in m.text or "CSP violation" in m.text) else None)
        yield tab
        context.close()
        browser.close()


@pytest.mark.browser
def test_the_violation_detector_catches_inline_style_and_script(app, browser_page):
    """The check below means something: a page with inline code is caught."""
    app.add_url_rule("/csp-probe", "csp_probe",
                     lambda: '<p style="color: red">x</p><script>document.title = "ran"</script>')
    from werkzeug.serving import make_server
    import threading

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser_page.goto(f"http://127.0.0.1:{server.server_port}/csp-probe")
        browser_page.wait_for_timeout(300)
        assert browser_page.title() != "ran"
    finally:
        server.shutdown()
        server.server_close()
    assert any("style-src" in e for e in browser_page.csp_errors), browser_page.csp_errors
    assert any("script-src" in e for e in browser_page.csp_errors), browser_page.csp_errors


@pytest.mark.browser
def test_shop_and_planner_pages_break_no_rule_of_the_policy(app, live_server, catalog,
                                                            browser_page):
    from playwright.sync_api import expect

    page = browser_page
    with app.app_context():
        make_user()
        unit_code = place(catalog).units[0].code
        _db.session.remove()

    # the shop's configurator, live: a choice redraws the preview from the server's SVG
    page.goto(f"{live_server}/products/suit")
    page.wait_for_selector("#configurator[data-live=yes]", state="attached")
    fabric = page.locator('[data-option="fabric"] input[type=radio]:not(:checked)').first
    with page.expect_response(lambda r: "/propagate" in r.url):
        fabric.check()
    page.wait_for_timeout(300)
    for path in ("/", "/order", "/partners/login"):
        page.goto(live_server + path)

    # the planner: login, units, one unit, then a print job until its file is ready
    page.goto(f"{live_server}/planner/login")
    page.fill('[name="email"]', "planner@example.com")
    page.fill('[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(re.compile(r"/planner/?$"))
    page.goto(f"{live_server}/planner/units/{unit_code}")
    for path in ("/planner/orders", "/planner/materials", "/planner/"):
        page.goto(live_server + path)
    # the finished job sends the browser to the PDF: answer 204 so the job page stays to be read
    page.route(re.compile(r"/planner/print/[^/]+/download$"),
               lambda route: route.fulfill(status=204))
    page.check("#all")
    with page.expect_navigation(url=re.compile(r"/planner/print/")):
        page.click('#print button[type="submit"]')
    # expect, not wait_for_function: its polling evaluates a string, which this CSP forbids
    expect(page.locator("#job-status")).to_contain_text(re.compile("Ready|Failed"),
                                                        timeout=60_000)
    assert "Ready" in page.inner_text("#job-status")
    assert page.csp_errors == []
