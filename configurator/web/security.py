"""Hardening in one place: security headers on every response, secure cookie settings, client
addresses behind trusted proxies, and a page that says when to retry after a rate limit.

A small after_request hook rather than Flask-Talisman: the policy is one fixed string (no nonces,
since no page has inline script or style), and what we send is readable here in full.
"""
from __future__ import annotations

import time

from flask import Flask, Response, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ..extensions import limiter

# Scripts, styles, fonts, fetches and form posts only from our own origin; images also as data:
# URLs; no plugins, no <base> tricks, never inside a frame. Inline <script>, on*= handlers and
# style="..." attributes are refused by the browser, so injected markup cannot run or restyle.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",  # a PDF or JSON is never run as a script or page
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    # Draft and tracking URLs carry their token: other sites never see our URLs.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# Only in production, where the site is served over HTTPS: browsers then refuse plain HTTP to
# it for a year (in development it would pin localhost to HTTPS).
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    _secure_cookies(app.config)
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    headers = dict(HEADERS)
    if app.config["ENV"] == "production":
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    def _add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    app.register_error_handler(429, _too_many_requests)


def _secure_cookies(cfg) -> None:
    """Secure cookies (HTTPS only) in production or when the public URL is https."""
    secure = cfg["ENV"] == "production" or str(cfg.get("PUBLIC_URL") or "").startswith("https:")
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if cfg.get(key) is None:
            cfg[key] = secure


def retry_after() -> int:
    """Seconds until the limit that was just hit lets this client through again."""
    limit = limiter.current_limit
    return max(1, int(limit.reset_at - time.time()) + 1) if limit else 60


def _too_many_requests(exc):
    wait = retry_after()
    html = render_template("errors/429.html", wait=wait, limit=exc.description,
                           back=request.path)
    return html, 429, {"Retry-After": str(wait)}
