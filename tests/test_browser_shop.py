"""The shop in a real browser (headless Chromium): live choices, price, drafts, an order of two
units, the tracking page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from configurator.domain import propagate
from conftest import complete_design, needs_chromium, new_tab

pytestmark = needs_chromium


@pytest.fixture
def page(browser):
    return new_tab(browser)


def _wait_live(page):
    page.wait_for_selector("#configurator[data-live=yes]", state="attached")


def _choose(page, option_id: str, choice_id: str):
    with page.expect_response(lambda r: "/propagate" in r.url):
        page.locator(f'[data-option="{option_id}"] input[value="{choice_id}"]').check()


def _fill_measurements(page, design: dict):
    for m_id, value in design["measurements"].items():
        page.fill(f'[name="measure_{m_id}"]', str(value))
    with page.expect_response(lambda r: "/propagate" in r.url):
        page.locator(f'[name="measure_{next(iter(design["measurements"]))}"]').dispatch_event(
            "change")
    page.wait_for_timeout(500)  # the debounced last update


def test_suit_live_configuration_draft_and_order_of_two(page, live_server, catalog):
    suit = catalog.products["suit"]
    linen = next(c for c in suit.option("fabric").choices
                 if c.attributes.get("composition") == "linen")
    rule = next(r for r in suit.rules if "linen" in r.source and "lapel" in r.source)
    page.goto(f"{live_server}/products/suit")
    _wait_live(page)

    # a fabric that rules out an option: peak lapel disabled, with the rule's reason beside it
    _choose(page, "fabric", linen.id)
    # (the page applies an answer a moment after it arrives: expect() waits for it)
    peak = page.locator('[data-option="lapel"] [data-choice="peak"]')
    expect(peak.locator("input")).to_be_disabled()
    expect(peak.locator(".reason")).to_contain_text(rule.message)
    expect(page.locator(f'#preview [fill="{linen.colour}"]').first).to_be_attached()

    # measurements: the price becomes complete, then a bigger chest costs more
    design = complete_design(suit, {"fabric": linen.id})
    _fill_measurements(page, design)
    # (expect, not wait_for_function: its polling evaluates strings, which the strict CSP forbids)
    expect(page.locator("#price-caption")).to_have_text("Price")
    before = page.inner_text("#price-total")
    others = {**design, "measurements": {k: v for k, v in design["measurements"].items()
                                         if k != "chest"}}
    biggest = propagate(suit, others).measurements["chest"].max
    expect(page.locator("#range-chest")).to_contain_text("to " + str(biggest))
    with page.expect_response(lambda r: "/propagate" in r.url):
        page.fill('[name="measure_chest"]', str(biggest))
    expect(page.locator("#price-total")).not_to_have_text(before)
    page.fill('[name="measure_chest"]', str(design["measurements"]["chest"]))

    # save, and reopen the shared link in a fresh tab
    page.click("button[value=save]")
    page.wait_for_selector(".share a")
    link = page.inner_text(".share a")
    other = page.context.new_page()
    other.goto(link)
    assert other.locator(f'[data-option="fabric"] input[value="{linen.id}"]').is_checked()
    assert other.input_value('[name="measure_chest"]') == str(design["measurements"]["chest"])
    other.close()

    # order it for Anna, then a second, three-piece suit for Rui
    page.fill('[name="label"]', "for Anna")
    page.click("button[value=add]")
    page.wait_for_url(re.compile(r"/order$"))
    page.goto(f"{live_server}/products/suit")
    _wait_live(page)
    three = complete_design(suit, {"pieces": "three"})
    assert page.locator('[data-option="waistcoat_style"]').is_hidden()
    blocked = page.locator('[data-option="pieces"] [data-choice="three"]')
    if blocked.locator("input").is_disabled():  # a default rules it out: the reason says which
        reason = blocked.locator(".reason").inner_text()
        assert reason
        _choose(page, "waistband", three["options"]["waistband"])
    _choose(page, "pieces", "three")
    expect(page.locator('[data-option="waistcoat_style"]')).to_be_visible()
    _fill_measurements(page, three)
    page.fill('[name="label"]', "for Rui")
    page.click("button[value=add]")
    page.wait_for_url(re.compile(r"/order$"))
    assert page.locator("li.unit").count() == 2

    page.fill('[name="name"]', "Ana Sousa")
    page.fill('[name="email"]', "ana@example.com")
    page.fill('[name="address"]', "Rua das Flores 12\n4050-262 Porto")
    page.click("text=Place order")
    page.wait_for_url(re.compile(r"/track/[\w-]{30,}$"))
    assert page.locator("li.unit").count() == 2
    assert "for Anna" in page.inner_text("#unit-1") and "for Rui" in page.inner_text("#unit-2")
    assert page.locator('[aria-current="step"]').count() == 2
    assert "Promised to ship by" in page.inner_text("main")


def test_the_configurator_reads_well_at_375_px(page, live_server):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server}/products/washing-machine")
    _wait_live(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways ({width} px)"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"


def test_a_three_piece_can_be_chosen_straight_away_and_the_default_gives_way(page, live_server):
    page.goto(f"{live_server}/products/suit")
    _wait_live(page)
    assert not page.locator('[data-option="pieces"] input[value="three"]').is_disabled()
    _choose(page, "pieces", "three")
    page.wait_for_selector("#auto-changes:not([hidden])")
    assert "Waistband is now" in page.inner_text("#auto-changes")
    assert page.locator('[data-option="waistband"] input[value="side-adjusters"]').is_checked()
    belt = page.locator('[data-option="waistband"] [data-choice="belt-loops"]')
    assert belt.locator("input").is_disabled() and "waistcoat" in belt.inner_text()
    assert page.locator('[data-option="pieces"] input[value="three"]').is_checked()
