"""Text a customer typed stays text on the traveller: no markup, no file, no URL is loaded."""
from __future__ import annotations

import http.server
import threading

import pytest

from configurator.services.orders import CustomerDetails
from configurator.workorders.render import (FetchRefused, html_to_pdf, render_work_order_html,
                                            static_url_fetcher)
from configurator.workorders.context import work_order_context
from configurator.workorders.storage import storage
from workorders_support import pdf_text, place, squash


@pytest.fixture
def trap():
    """A local HTTP server that counts every request: nothing may reach it."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _payloads(base: str) -> list[str]:
    return [
        '<img src="file:///etc/passwd">',
        f'<img src="{base}/img">',
        f"<style>@import url({base}/css);</style>",
        f'<link rel="stylesheet" href="{base}/link">',
        f"url({base}/url) url(http://127.0.0.1:1/)",
        '<object data="file:///etc/hostname"></object>',
        f'<svg><image href="{base}/svg"/></svg>',
    ]


def test_every_text_field_shows_injection_attempts_as_text(app, db, catalog, trap):
    base, hits = trap
    for payload in _payloads(base):
        customer = CustomerDetails(payload, "ana@example.com", payload)
        order = place(catalog, customer=customer, label=payload[:200])
        unit = order.units[0]
        unit.notes = payload
        db.session.commit()
        context = work_order_context(unit, factory=payload, public_url=app.config["PUBLIC_URL"])
        html = render_work_order_html(context)
        assert "<" not in payload or payload not in html  # escaped, never markup
        text, _ = pdf_text(html_to_pdf(html))
        assert squash(payload) in squash(text)  # shown as the characters typed
        stored, _ = pdf_text(storage().read(unit.work_order.path))
        assert squash(payload[:200]) in squash(stored)
    assert hits == []


def test_the_url_fetcher_serves_static_files_and_refuses_the_rest(app):
    from configurator.workorders.render import BARCODE_SCHEME, QR_SCHEME, STATIC_BASE_URL

    assert static_url_fetcher(STATIC_BASE_URL + "css/workorder.css")["string"].startswith(b"/*")
    for url in ("file:///etc/passwd", "http://127.0.0.1:1/", "data:text/plain,hi",
                STATIC_BASE_URL + "../setup.cfg", STATIC_BASE_URL + "%2e%2e/setup.cfg",
                "wo-code128x:U-1", "wo-qr-file:///etc/passwd"):
        with pytest.raises(FetchRefused):
            static_url_fetcher(url)
    # the barcode and QR code are drawn from the text in their URL, never fetched
    for url in (BARCODE_SCHEME + "U-2611-000001", QR_SCHEME + "file%3A%2F%2F%2Fetc%2Fpasswd"):
        drawn = static_url_fetcher(url)
        assert drawn["mime_type"] == "image/png" and drawn["string"].startswith(b"\x89PNG")


def test_markup_that_reaches_the_renderer_still_loads_nothing(app, trap):
    """Even if a template bug let markup through, the fetcher refuses it."""
    base, hits = trap
    html = f'<p>x</p><img src="{base}/img"><img src="file:///etc/passwd">' \
           f'<style>@import url({base}/css); p {{ background: url({base}/bg) }}</style>'
    data = html_to_pdf(html)
    assert hits == [] and b"root:" not in data


def test_a_control_character_in_customer_text_still_renders(app, db, catalog):
    from configurator.services.orders import CustomerDetails

    order = place(catalog, customer=CustomerDetails("Ana\x0bSousa <b>", "ana@example.com", "x"))
    work_order = order.units[0].work_order
    assert work_order.status == "done", work_order.error
    text, _ = pdf_text(storage().read(work_order.path))
    assert "Sousa <b>" in text
