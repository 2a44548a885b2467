"""SVG previews of a design, drawn from its choices: plain Python, no Flask.

Each product names its drawing in the spec (`preview = "suit" | "shirt" | "washer"`). A drawing
reads the colours of the chosen choices and a few style options by id (the lapel, the collar,
the door); anything it does not recognise falls back to a plain shape, so a spec can change
without breaking the page. Every value written into the SVG is escaped.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from .domain.model import ProductSpec

COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
INK = "#2b2b2b"


def safe_colour(value: object, default: str | None = None) -> str | None:
    """A "#rgb"/"#rrggbb" colour, or `default` (nothing else may reach a style attribute)."""
    return value if isinstance(value, str) and COLOUR.fullmatch(value) else default


class _Design:
    """The chosen choices of a design, read defensively."""

    def __init__(self, spec: ProductSpec, design: object):
        self.spec = spec
        design = design if isinstance(design, dict) else {}
        self.options = design.get("options") if isinstance(design.get("options"), dict) else {}
        self.texts = design.get("texts") if isinstance(design.get("texts"), dict) else {}

    def choice_id(self, option_id: str) -> str:
        value = self.options.get(option_id)
        return value if isinstance(value, str) else ""

    def colour(self, option_id: str, default: str) -> str:
        option = self.spec.option(option_id)
        choice = option.choice(self.choice_id(option_id)) if option else None
        return safe_colour(choice.colour if choice else None, default)

    def swatch_colours(self) -> list[str]:
        """Colours of the chosen choices of the swatch options, in spec order (None if unset)."""
        out = []
        for option in self.spec.options:
            if option.display == "swatch":
                choice = option.choice(self.choice_id(option.id))
                out.append(safe_colour(choice.colour if choice else None))
        return out

    def colour_by_role(self, index: int, default: str) -> str:
        colours = self.swatch_colours()
        return (colours[index] if index < len(colours) else None) or default

    def has(self, option_id: str, *words: str) -> bool:
        value = self.choice_id(option_id)
        return any(w in value for w in words)


def _attrs(**attrs: object) -> str:
    return " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v), quote=True)}"'
                    for k, v in attrs.items())


def _el(tag: str, **attrs: object) -> str:
    return f"<{tag} {_attrs(**attrs)}/>"


def _svg(title: str, body: list[str]) -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 240" role="img" '
            f'aria-label="{escape(title, quote=True)}" class="preview-svg">'
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _text(x: float, y: float, text: str, size: int, fill: str) -> str:
    return (f'<text {_attrs(x=x, y=y, font_size=size, fill=fill, text_anchor="middle")} '
            f'font-family="serif">{escape(text)}</text>')


# -- suit -----------------------------------------------------------------------------------

def _suit(d: _Design) -> str:
    cloth = d.colour_by_role(0, "#3a3d42")
    lining = d.colour_by_role(1, "#8a8f99")
    body = [
        _el("path", d="M60 40 L100 55 L140 40 L170 60 L178 170 L156 172 L150 100 L148 200 "
            "L52 200 L50 100 L44 172 L22 170 L30 60 Z", fill=cloth, stroke=INK, stroke_width=1.5),
        _el("path", d="M80 44 L100 110 L120 44 L110 40 L100 52 L90 40 Z", fill="#f4f1ea",
            stroke=INK),
        _el("path", d="M84 44 L100 96 L116 44", fill=lining, opacity="0.9"),
    ]
    body += _lapels(d, cloth)
    if d.choice_id("pieces") == "three":
        body.append(_el("path", d="M82 100 L100 128 L118 100 L120 170 L80 170 Z", fill=cloth,
                        stroke=INK, stroke_dasharray="3 2"))
    body += _front_buttons(d)
    body += _pockets(d)
    monogram = d.texts.get("monogram")
    if isinstance(monogram, str) and monogram:
        body.append(_text(128, 92, monogram[:3], 9, lining))
    return _svg("Preview of the suit", body)


def _lapels(d: _Design, cloth: str) -> list[str]:
    if d.has("lapel", "shawl"):
        shapes = ["M90 40 Q76 80 100 118", "M110 40 Q124 80 100 118"]
    elif d.has("lapel", "peak"):
        shapes = ["M90 40 L74 62 L68 50 L80 78 L100 118",
                  "M110 40 L126 62 L132 50 L120 78 L100 118"]
    else:  # notch, or anything the drawing does not know
        shapes = ["M90 40 L76 64 L84 68 L78 78 L100 118",
                  "M110 40 L124 64 L116 68 L122 78 L100 118"]
    return [_el("path", d=s, fill=cloth, stroke=INK, stroke_width=1.2) for s in shapes]


def _front_buttons(d: _Design) -> list[str]:
    if d.has("buttons", "db"):
        return [_el("circle", cx=x, cy=y, r=2.6, fill=INK)
                for x in (88, 112) for y in (126, 142, 158)]
    count = {"one": 1, "three": 3}.get(d.choice_id("buttons"), 2)
    return [_el("circle", cx=102, cy=128 + 14 * i, r=2.6, fill=INK) for i in range(count)]


def _pockets(d: _Design) -> list[str]:
    if d.has("pockets", "patch"):
        return [_el("rect", x=x, y=160, width=26, height=22, rx=3, fill="none", stroke=INK)
                for x in (58, 116)]
    height = 2 if d.has("pockets", "jet") else 7
    return [_el("rect", x=x, y=162, width=26, height=height, fill="none", stroke=INK)
            for x in (58, 116)]


# -- shirt ----------------------------------------------------------------------------------

def _shirt(d: _Design) -> str:
    cloth = d.colour_by_role(0, "#dfe7f2")
    body = [
        _el("path", d="M62 44 L100 52 L138 44 L172 66 L182 168 L160 170 L150 104 L150 206 "
            "L50 206 L50 104 L40 170 L18 168 L28 66 Z", fill=cloth, stroke=INK, stroke_width=1.5),
        _el("line", x1=100, y1=56, x2=100, y2=206, stroke=INK, stroke_width=0.8),
    ]
    body += _collar(d, cloth)
    body += [_el("circle", cx=104, cy=72 + 22 * i, r=2, fill="#f8f8f8", stroke=INK)
             for i in range(6)]
    cuff = 12 if d.has("cuffs", "french", "double") else 8
    body += [_el("rect", x=x, y=160, width=24, height=cuff, fill=cloth, stroke=INK)
             for x in (16, 158)]
    if d.choice_id("pocket") not in ("", "none", "no"):
        xs = (60, 120) if d.has("pocket", "two") else (120,)
        body += [_el("rect", x=x, y=86, width=20, height=22, fill="none", stroke=INK) for x in xs]
    monogram = d.texts.get("monogram")
    if isinstance(monogram, str) and monogram:
        body.append(_text(76, 150, monogram[:4], 8, INK))
    return _svg("Preview of the shirt", body)


def _collar(d: _Design, cloth: str) -> list[str]:
    if d.has("collar", "band", "mandarin", "grandad"):
        return [_el("path", d="M80 42 Q100 52 120 42 L120 52 Q100 62 80 52 Z", fill=cloth,
                    stroke=INK)]
    spread = 16 if d.has("collar", "cut", "spread") else 8
    tip = 74 if d.has("collar", "button") else 70
    shapes = [f"M80 40 L100 56 L{100 - spread - 12} {tip} Z",
              f"M120 40 L100 56 L{100 + spread + 12} {tip} Z"]
    out = [_el("path", d=s, fill=cloth, stroke=INK, stroke_width=1.2) for s in shapes]
    if d.has("collar", "button"):
        out += [_el("circle", cx=100 - spread - 8, cy=tip - 3, r=1.6, fill=INK),
                _el("circle", cx=100 + spread + 8, cy=tip - 3, r=1.6, fill=INK)]
    return out


# -- washing machine ------------------------------------------------------------------------

def _washer(d: _Design) -> str:
    cabinet = d.colour_by_role(0, "#f2f2f2")
    door_id = next((o.id for o in d.spec.options if "door" in o.id), "")
    radius = 62 if d.has(door_id, "large", "porthole", "xl") else 54
    ring = "#c9ccd1" if d.has(door_id, "chrome", "steel", "silver") else cabinet
    body = [
        _el("rect", x=30, y=20, width=140, height=200, rx=8, fill=cabinet, stroke=INK,
            stroke_width=1.5),
        _el("line", x1=30, y1=60, x2=170, y2=60, stroke=INK, stroke_width=0.8),
        _el("rect", x=40, y=30, width=40, height=20, rx=3, fill="#ffffff", stroke=INK),
        _el("circle", cx=145, cy=40, r=10, fill="#e4e4e4", stroke=INK),
        _el("circle", cx=100, cy=140, r=radius, fill=ring, stroke=INK, stroke_width=2),
        _el("circle", cx=100, cy=140, r=radius - 14, fill="#9fb6c8", stroke=INK, opacity="0.85"),
        _el("rect", x=100 - radius - 2, y=130, width=6, height=20, rx=2, fill=INK),
    ]
    return _svg("Preview of the washing machine", body)


def _plain(d: _Design) -> str:
    colour = d.colour_by_role(0, "#cccccc")
    return _svg(f"Preview of the {d.spec.name}", [
        _el("rect", x=30, y=30, width=140, height=180, rx=12, fill=colour, stroke=INK)])


DRAWINGS: dict[str, Callable[[_Design], str]] = {
    "suit": _suit, "shirt": _shirt, "washer": _washer}


def render_preview(spec: ProductSpec, design: object) -> str:
    """An SVG string drawing `design` (complete or not); safe to put inline in a page."""
    return DRAWINGS.get(spec.preview, _plain)(_Design(spec, design))
