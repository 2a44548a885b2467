"""Work order to HTML (Jinja2, plain values only), then HTML to PDF (WeasyPrint, offline)."""
from __future__ import annotations

import functools
import gc
import io
import logging
import re
import threading
from pathlib import Path
from xml.etree import ElementTree
from urllib.parse import quote, unquote, urlsplit

import barcode
import segno
from PIL import Image
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..config import ROOT
from .monotext import Column, fact_rows, labelled_lines, text_rows

log = logging.getLogger(__name__)

STATIC_DIR = (ROOT / "static").resolve()
STATIC_BASE_URL = STATIC_DIR.as_uri() + "/"
PAPERS = {"A4": "A4", "LETTER": "letter"}  # our name -> CSS @page size


class FetchRefused(ValueError):
    """WeasyPrint asked for something outside our static files."""


@functools.cache
def _jinja() -> Environment:
    # Our own environment (not Flask's) so workers and benchmarks render without an app.
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "templates" / "workorder")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(Column=Column, fact_rows=fact_rows, labelled_lines=labelled_lines,
                       text_rows=text_rows)
    return env


def render_work_order_html(context: dict) -> str:
    """The traveller as HTML; `context` holds plain values (see context.work_order_context)."""
    unit = context["unit"]
    return _jinja().get_template("traveller.html").render(
        **context,
        barcode_src=BARCODE_SCHEME + quote(unit["code"], safe=""),
        qr_src=QR_SCHEME + quote(unit["url"], safe=""),
    )


# The barcode and QR code are images the URL fetcher draws from the text in their URL: small
# one-bit PNGs, printed with crisp edges. (As inline SVG paths they took WeasyPrint ~25 ms.)
BARCODE_SCHEME = "wo-code128:"
QR_SCHEME = "wo-qr:"


def code128_png(text: str, height: int = 41) -> bytes:
    """A Code 128 barcode, one pixel a module; the stylesheet prints a pixel 0.27 mm wide
    (`image-resolution`), so the bars are 11 mm high and the width follows the code's length."""
    modules = barcode.get("code128", text).build()[0]
    row = [0 if bit == "1" else 1 for bit in modules]
    image = Image.new("1", (len(modules), height))
    image.putdata(row * height)
    return _png(image)


def qr_png(url: str) -> bytes:
    """The unit's page as a QR code, one pixel a module, with a two-module quiet zone. The mask
    is fixed: any mask scans, and trying all eight to pick the best took 5 ms."""
    out = io.BytesIO()
    segno.make(url, error="m", mask=0).save(out, kind="png", scale=1, border=2)
    return out.getvalue()


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _drawn_image(url: str) -> dict | None:
    for scheme, draw in ((BARCODE_SCHEME, code128_png), (QR_SCHEME, qr_png)):
        if url.startswith(scheme):
            return {"string": draw(unquote(url[len(scheme):])), "mime_type": "image/png",
                    "redirected_url": url}
    return None


def static_url_fetcher(url: str, *args, **kwargs) -> dict:
    """Serve files under static/ and our own barcode and QR images; refuse everything else
    (file:, http:, data:, ...)."""
    drawn = _drawn_image(url)
    if drawn:
        return drawn
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise FetchRefused(f"work orders load only our static files, not {url[:200]!r}")
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise FetchRefused(f"work orders load only our static files, not {url[:200]!r}")
    return {"string": path.read_bytes(), "redirected_url": url}


_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>", re.IGNORECASE)


@functools.cache
def _lean_html_class():
    """An HTML document built from our own well-formed template output: parsed by expat (C)
    instead of the pure-Python HTML5 parser, styled with a small user-agent stylesheet."""
    import cssselect2
    from weasyprint import CSS, HTML

    ua = CSS(filename=str(STATIC_DIR / "css" / "workorder-ua.css"), url_fetcher=static_url_fetcher)

    class LeanHTML(HTML):
        def __init__(self, root: ElementTree.Element):  # noqa: D107 (no HTML parsing here)
            self.base_url = STATIC_BASE_URL
            self.url_fetcher = static_url_fetcher
            self.media_type = "print"
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root)
            self.etree_element = self.wrapper_element.etree_element

        def _ua_stylesheets(self, forms=False):
            return [ua]

    return LeanHTML


def _document(html: str):
    """Our template's output goes the fast way; anything expat refuses (a control character a
    customer pasted, say) goes through WeasyPrint's own HTML5 parser."""
    from weasyprint import HTML

    try:
        root = ElementTree.fromstring(_DOCTYPE.sub("", html, count=1))
    except ElementTree.ParseError:
        return HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=static_url_fetcher)
    return _lean_html_class()(root)


class Renderer:
    """One warm WeasyPrint: stylesheets parsed once, one font configuration reused. Renders one
    document at a time: without a broker the render thread, a print job's thread and a request
    may all want it, and they share the font configuration."""

    def __init__(self, stylesheet: Path = STATIC_DIR / "css" / "workorder.css"):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        base = stylesheet.read_text()
        self.stylesheets = {
            paper: CSS(string=base + f"\n@page {{ size: {size}; }}\n", base_url=STATIC_BASE_URL,
                       url_fetcher=static_url_fetcher, font_config=self.font_config)
            for paper, size in PAPERS.items()
        }
        self._lock = threading.Lock()

    def render(self, html: str, paper: str = "A4") -> tuple[bytes, int]:
        """PDF bytes and page count."""
        stylesheet = self.stylesheets[paper_name(paper)]
        with self._lock:
            rendered = _document(html).render(stylesheets=[stylesheet],
                                              font_config=self.font_config)
            return rendered.write_pdf(), len(rendered.pages)

    def pdf(self, html: str, paper: str = "A4") -> bytes:
        return self.render(html, paper)[0]


def paper_name(paper: str) -> str:
    """'a4', 'letter', 'Letter' -> our key; anything else is a readable error."""
    key = (paper or "A4").upper()
    if key not in PAPERS:
        raise ValueError(f"paper {paper!r} is not one of A4, Letter")
    return key


@functools.cache
def _renderer() -> Renderer:
    return Renderer()


def warm_up() -> None:
    """Make this process a warm renderer: fonts and stylesheets loaded, then frozen out of the
    garbage collector's sight. Without the freeze every full collection walks WeasyPrint's
    large warm heap, which costs about a third of each render. For worker processes."""
    renderer = _renderer()
    for paper in PAPERS:
        renderer.render("<!doctype html><html><body><p>warm <b>up</b></p></body></html>", paper)
    gc.collect()
    gc.freeze()


def html_to_pdf(html: str, paper: str = "A4") -> bytes:
    """PDF bytes of the traveller HTML on A4 or US Letter, with the process's warm renderer."""
    return _renderer().pdf(html, paper)


def html_to_pdf_pages(html: str, paper: str = "A4") -> tuple[bytes, int]:
    return _renderer().render(html, paper)


def fast_subsetting_available() -> bool:
    """True when WeasyPrint can subset fonts with HarfBuzz (libharfbuzz-subset0), not fontTools."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return bool(harfbuzz_subset) and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def warn_if_slow() -> bool:
    """Log a warning at start when rendering would take the ~5x slower fontTools path."""
    if fast_subsetting_available():
        return False
    log.warning(
        "libharfbuzz-subset0 is missing: work orders will render about five times slower "
        "(fontTools subsetting). Install it: apt-get install libharfbuzz-subset0")
    return True
