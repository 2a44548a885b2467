"""The SVG preview: drawn from the choices, well-formed, and nothing unescaped gets in."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from configurator.domain import load_specs
from configurator.config import ROOT
from configurator.preview import render_preview, safe_colour

CATALOG = load_specs(ROOT / "specs")


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_every_product_has_a_well_formed_preview():
    for spec in CATALOG.products.values():
        root = _parse(render_preview(spec, {}))
        assert root.tag.endswith("svg") and root.get("role") == "img"


def test_the_suit_preview_uses_the_chosen_cloth_colour():
    suit = CATALOG.products["suit"]
    fabric = next(o for o in suit.options if o.display == "swatch")
    for choice in fabric.choices[:3]:
        svg = render_preview(suit, {"options": {fabric.id: choice.id}})
        assert choice.colour in svg


def test_the_suit_preview_draws_the_lapel_and_the_waistcoat():
    suit = CATALOG.products["suit"]
    notch = render_preview(suit, {"options": {"lapel": "notch"}})
    peak = render_preview(suit, {"options": {"lapel": "peak"}})
    three = render_preview(suit, {"options": {"pieces": "three"}})
    assert notch != peak and "stroke-dasharray" in three and "stroke-dasharray" not in notch


def test_colours_that_are_not_hex_never_reach_the_svg():
    assert safe_colour("#1f2a44") == "#1f2a44"
    assert safe_colour('red" onload="alert(1)') is None
    assert safe_colour("url(javascript:x)", "#000") == "#000"


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["options", "texts", "measurements", "x"]),
                       st.one_of(st.dictionaries(st.text(max_size=20), st.text(max_size=40)),
                                 st.text(max_size=20), st.integers())))
def test_any_design_gives_well_formed_svg(design):
    for spec in CATALOG.products.values():
        svg = render_preview(spec, design)
        root = _parse(svg)
        assert not [el for el in root.iter() if el.tag.endswith("script")]
        assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)
