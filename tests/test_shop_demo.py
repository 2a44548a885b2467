"""`configurator demo-data`: stock seeded and demo orders placed through the order service, once."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from configurator.demo import example_design
from configurator.domain import validate
from configurator.models import MaterialStock, Order


def test_example_designs_are_valid_for_every_product(app, catalog):
    for spec in catalog.products.values():
        assert validate(spec, example_design(spec)).valid, spec.id


def test_demo_data_seeds_stock_and_places_orders_once(app, db, catalog):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert "/track/" in first.output
    orders = db.session.execute(select(func.count()).select_from(Order)).scalar_one()
    assert orders >= 2
    materials = sum(len(s.materials) for s in catalog.products.values())
    assert db.session.execute(
        select(func.count()).select_from(MaterialStock)).scalar_one() == materials
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code == 0 and "already there" in again.output
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == orders


def test_demo_links_point_at_the_public_url_and_open(app, db, client):
    # `./dev run` sets PUBLIC_URL to the address it serves on (PORT=5077 -> :5077)
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5077"
    output = app.test_cli_runner().invoke(args=["demo-data"]).output
    links = re.findall(r"^order C2B-\w+ \((\d+) units?\): (\S+)$", output, re.M)
    assert links, output
    for count, link in links:
        assert link.startswith("http://127.0.0.1:5077/track/")
        assert (f"({count} unit)" if count == "1" else f"({count} units)") in output
        assert client.get(link.removeprefix("http://127.0.0.1:5077")).status_code == 200
