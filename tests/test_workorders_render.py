"""The traveller: rendered from the stored snapshot, every spec value and operation on it,
A4 and Letter, stored once, failures recorded."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from configurator.extensions import db as _db
from configurator.models import WorkOrder
from configurator.workorders.context import work_order_context
from configurator.workorders.render import html_to_pdf, render_work_order_html
from configurator.workorders.storage import storage
from configurator.workorders.tasks import render_and_store, RenderFailed
from workorders_support import pdf_text, place, squash


def _context(app, unit):
    return work_order_context(unit, factory=app.config["FACTORY_NAME"],
                              public_url=app.config["PUBLIC_URL"])


@pytest.mark.parametrize("product", ["suit", "shirt", "washing-machine"])
def test_placing_an_order_renders_a_work_order_with_every_value(app, db, catalog, product):
    if product not in catalog.products:
        pytest.skip(f"no {product} spec")
    order = place(catalog, product)
    unit = order.units[0]
    assert unit.work_order.status == "done", unit.work_order.error
    text, pages = pdf_text(storage().read(unit.work_order.path))
    flat = squash(text)
    spec = catalog.products[product]
    for head in (unit.code, order.reference, order.customer_name, spec.name,
                 unit.promised_date.isoformat(), unit.spec_version[:12]):
        assert squash(head) in flat, head
    for option_id, choice_id in unit.design["options"].items():
        option = spec.option(option_id)
        assert squash(option.label) in flat and squash(option.choice(choice_id).label) in flat
    for m in spec.measurements:
        value = format(Decimal(str(unit.design["measurements"][m.id])).normalize(), "f")
        assert squash(f"{m.label}") in flat and squash(f"{value} {m.unit}") in flat
    for step in unit.routing:
        assert squash(step["operation"]) in flat
    for line in unit.bill:
        assert squash(line["name"]) in flat
    assert pages == unit.work_order.pages


def test_names_in_any_script_are_printed(app, db, catalog):
    """DejaVu has no Chinese, Japanese or Korean; a fallback font (fonts-wqy-microhei, which
    ./dev installs) prints them instead of leaving the customer's name blank. A long one wraps
    by character cells (a CJK character takes two) inside the box."""
    from configurator.services.orders import CustomerDetails

    name = "山田 太郎 · 김민준 · Ελένη · Дмитрий · عائشة · " + "長谷川" * 14
    order = place(catalog, customer=CustomerDetails(name, "t@example.com", "Tokyo"))
    work_order = order.units[0].work_order
    assert work_order.status == "done", work_order.error
    text, _ = pdf_text(storage().read(work_order.path))
    for part in ("山田太郎", "김민준", "Ελένη", "Дмитрий", "長谷川" * 14):
        assert part in squash(text), part


def test_the_printed_barcode_and_qr_code_scan_as_the_unit_and_its_page(app, db, catalog):
    """Read the two codes back from the stored PDF's images, as a scanner on the line would."""
    import zxingcpp
    from PIL import Image, ImageOps
    from pypdf import PdfReader

    unit = place(catalog).units[0]
    reader = PdfReader(io.BytesIO(storage().read(unit.work_order.path)))
    found = set()
    for image in reader.pages[0].images:
        pixels = image.image.convert("L")  # one pixel a module: enlarge, add a quiet zone
        pixels = pixels.resize((pixels.width * 4, max(pixels.height * 4, 80)), Image.NEAREST)
        found |= {(code.format.name, code.text)
                  for code in zxingcpp.read_barcodes(ImageOps.expand(pixels, 40, fill=255))}
    url = f"{app.config['PUBLIC_URL'].rstrip('/')}/planner/units/{unit.code}"
    assert found == {("Code128", unit.code), ("QRCode", url)}


def test_a_typical_two_piece_suit_fits_one_a4_page(app, db, catalog):
    unit = place(catalog, options={"pieces": "two"}).units[0]
    assert unit.work_order.pages == 1


def test_letter_paper_is_letter_sized_and_numbers_its_pages(app, db, catalog):
    from io import BytesIO

    from pypdf import PdfReader

    unit = place(catalog, options={"pieces": "three"}).units[0]
    data = html_to_pdf(render_work_order_html(_context(app, unit)), "letter")
    reader = PdfReader(BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    if len(reader.pages) > 1:
        assert f"page 2 of {len(reader.pages)}" in reader.pages[1].extract_text()
        assert unit.code in reader.pages[1].extract_text()


def test_rendering_uses_the_stored_snapshot_not_the_current_spec(app, db, catalog):
    unit = place(catalog).units[0]
    before = render_work_order_html(_context(app, unit))
    spec = catalog.products["suit"]
    # The catalog moves on (a new version of the spec); the unit keeps its own.
    app.extensions["catalog"].products["suit"] = type(spec)(**{
        **{f: getattr(spec, f) for f in spec.__dataclass_fields__}, "name": "Renamed suit",
        "version": "new-version"})
    app.extensions["spec_versions"].clear()
    after = render_work_order_html(_context(app, unit))
    assert after == before and "Renamed suit" not in after


def test_rendering_twice_leaves_one_file(app, db, catalog, tmp_path):
    unit = place(catalog).units[0]
    render_and_store(unit.id, force=True)
    files = [p for p in storage().root.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [f"{unit.code}.pdf"]
    work_order = db.session.execute(
        select(WorkOrder).where(WorkOrder.unit_id == unit.id)).scalar_one()
    assert work_order.status == "done" and work_order.attempts == 2


def test_a_failed_render_is_recorded_for_planners(app, db, catalog):
    unit = place(catalog).units[0]
    unit.spec_version = "no-such-version"  # its stored spec source is gone
    unit.work_order.status = "pending"
    db.session.commit()
    with pytest.raises(RenderFailed):
        render_and_store(unit.id)
    _db.session.expire_all()
    work_order = db.session.execute(
        select(WorkOrder).where(WorkOrder.unit_id == unit.id)).scalar_one()
    assert work_order.status == "failed" and "no-such-version" in work_order.error


def test_a_failed_render_through_the_queue_is_retried_then_left_failed(app, db, catalog):
    from configurator.workorders.queue import enqueue_renders
    from configurator.workorders.tasks import MAX_ATTEMPTS

    unit = place(catalog).units[0]
    unit.spec_version = "no-such-version"
    db.session.commit()
    enqueue_renders([unit.id], force=True)
    _db.session.expire_all()
    work_order = db.session.execute(
        select(WorkOrder).where(WorkOrder.unit_id == unit.id)).scalar_one()
    assert work_order.status == "failed" and work_order.attempts == 1 + MAX_ATTEMPTS


def test_fast_font_subsetting_is_detected_when_libharfbuzz_subset_is_installed():
    import ctypes.util

    from configurator.workorders.render import fast_subsetting_available, warn_if_slow

    if not ctypes.util.find_library("harfbuzz-subset"):
        pytest.skip("libharfbuzz-subset0 is not installed here")
    assert fast_subsetting_available() and warn_if_slow() is False


def test_the_fast_parse_renders_what_the_html5_parser_renders(app, db, catalog):
    from weasyprint import HTML

    from configurator.workorders import render
    from workorders_support import pdf_text

    unit = place(catalog).units[0]
    html = render_work_order_html(_context(app, unit))
    renderer = render._renderer()
    slow = HTML(string=html, base_url=render.STATIC_BASE_URL,
                url_fetcher=render.static_url_fetcher).write_pdf(
        stylesheets=[renderer.stylesheets["A4"]], font_config=renderer.font_config)
    assert pdf_text(html_to_pdf(html)) == pdf_text(slow)


def test_render_pending_command_renders_what_is_not_done(app, db, catalog):
    unit = place(catalog).units[0]
    unit.work_order.status = "failed"
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["workorders", "render-pending"])
    assert result.exit_code == 0 and "1 work order(s) queued" in result.output
    _db.session.expire_all()
    assert db.session.execute(select(WorkOrder.status)).scalar_one() == "done"
