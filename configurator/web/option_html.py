"""One option of the configurator as HTML, rendered in Python: the same markup the Jinja
macro `option_fieldset` wrote (templates/shop/_macros.html calls this), at a fraction of the
CPU. The suit's page has 21 options and 86 choices; through Jinja each choice's dozen
escaped attributes and lookups made this half of the page's rendering.

Every value is escaped (`markupsafe.escape`), as autoescaping did; the whitespace is the
macro's, so the page is byte for byte what it was.
"""
from __future__ import annotations

from markupsafe import Markup, escape

CHIP = ('<svg class="chip" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true" '
        'focusable="false"><rect width="1" height="1" fill="{}"/></svg>')


def field_errors(field) -> Markup:
    """The `errors` macro: a field's messages, in a paragraph hidden while there are none."""
    spans = "".join(f'<span class="error">{escape(e)}</span>' for e in field.errors)
    return Markup(f'<p class="field-errors" id="err-{escape(field.id)}" '
                  f'data-errors-for="{escape(field.name)}" '
                  f'{"" if field.errors else "hidden"}>{spans}</p>')


def option_fieldset(ov: dict, spec) -> Markup:
    """An option view (`shop_pages._option_view`) as its fieldset."""
    o, f = ov["option"], ov["field"]
    fid = escape(f.id)
    help_ = f'<p class="help" id="help-{fid}">{escape(o.help)}</p>' if o.help else ""
    body = (_select(ov, f, fid, spec.currency) if o.display == "select"
            else _choices(ov, o, f, fid, spec.currency))
    return Markup(
        f'\n\n<fieldset class="option {escape(o.display)}" data-option="{escape(o.id)}" '
        f'data-default="{escape(o.default or "")}" id="fs-{fid}" '
        f'{"" if ov["active"] else "hidden disabled"}\n'
        f'          aria-describedby="help-{fid} err-{fid}">\n'
        f'  <legend>{escape(o.label)}</legend>\n'
        f'  {help_}\n'
        f'  {field_errors(f)}\n'
        f'  {body}\n'
        f'</fieldset>\n')


def _money(currency, amount) -> str:
    return f"{escape(currency)} {escape(amount)}"


def _select(ov: dict, f, fid: str, currency) -> str:
    options = []
    for cv in ov["choices"]:
        choice = cv["choice"]
        cid = escape(choice.id)
        price = f" (+{_money(currency, choice.price)})" if choice.price else ""
        options.append(
            f'\n      <option value="{cid}" data-choice="{cid}" '
            f'{"selected" if cv["checked"] else ""} {"disabled" if cv["disabled"] else ""}>'
            f'{escape(choice.label)}{price}</option>\n      ')
    reasons = "".join(
        f'<li data-reason-for="{escape(cv["choice"].id)}" {"hidden" if cv["available"] else ""}>'
        f'{escape(cv["choice"].label)}: {escape(" ".join(cv["reasons"]))}</li>'
        for cv in ov["choices"])
    return (f'\n    <select name="{escape(f.name)}" id="{fid}" aria-describedby="reasons-{fid}">\n'
            f'      <option value="">Choose…</option>\n'
            f'      {"".join(options)}\n'
            f'    </select>\n'
            f'    <ul class="reasons" id="reasons-{fid}">\n'
            f'      {reasons}\n'
            f'    </ul>\n  ')


def _choices(ov: dict, o, f, fid: str, currency) -> str:
    name = escape(f.name)
    items = []
    for index, cv in enumerate(ov["choices"]):
        choice = cv["choice"]
        cid = f"{fid}-{index}"
        chip = CHIP.format(escape(cv["colour"])) if cv["colour"] else ""
        price = (f'<span class="delta">+{_money(currency, choice.price)}</span>'
                 if choice.price else "")
        if choice.help and o.display != "swatch":
            help_ = (f'<span class="choice-help" id="{cid}-help">{escape(choice.help)}</span>\n'
                     '      ')
        elif choice.help:
            help_ = (f'<span class="choice-help visually-hidden" id="{cid}-help">'
                     f'{escape(choice.help)}</span>')
        else:
            help_ = ""
        items.append(
            f'\n    \n'
            f'    <div class="choice{"" if cv["available"] else " unavailable"}" '
            f'data-choice="{escape(choice.id)}">\n'
            f'      <input type="radio" name="{name}" id="{cid}" value="{escape(choice.id)}"\n'
            f'             {"checked" if cv["checked"] else ""} '
            f'{"disabled" if cv["disabled"] else ""}\n'
            f'             aria-describedby="{cid}-help {cid}-reason">\n'
            f'      <label for="{cid}">\n'
            f'        {chip}\n'
            f'        <span class="choice-label">{escape(choice.label)}</span>\n'
            f'        {price}\n'
            f'      </label>\n'
            f'      {help_}\n'
            f'      <span class="reason" id="{cid}-reason" '
            f'{"hidden" if cv["available"] else ""}>{escape(" ".join(cv["reasons"]))}</span>\n'
            f'    </div>\n    ')
    return f'\n  <div class="choices">\n    {"".join(items)}\n  </div>\n  '
