"""A group order in a real browser (headless Chromium): the organiser starts a group from the
configurator, three members join through the invitation (one with a bad measurement, told live
and after joining, who then fixes it), the organiser sees first names and the running total,
places the group, and gets the tracking link; the invitation then takes nobody."""
from __future__ import annotations

import re

from sqlalchemy import select

from configurator.extensions import db
from configurator.models import GroupMember, Order
from configurator.workorders.storage import storage
from conftest import complete_design, needs_chromium, new_tab
from workorders_support import pdf_text, squash

SHARED = {"fabric": "charcoal-plain-s110", "lapel": "peak"}

pytestmark = needs_chromium


def _tab(browser, width=1280):
    """A fresh browser profile: each person in the group has their own."""
    tab = new_tab(browser, width)
    errors = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.console_errors = errors
    return tab


def _propagated(tab):
    return tab.expect_response(lambda r: "/propagate" in r.url)


def _fill_member(tab, first_name: str, design: dict):
    tab.wait_for_selector("#configurator[data-live=yes]", state="attached")
    tab.fill('[name="first_name"]', first_name)
    tab.fill('[name="email"]', f"{first_name.lower()}@example.com")
    for m_id, value in design["measurements"].items():
        tab.fill(f'[name="measure_{m_id}"]', str(value))
    with _propagated(tab):
        tab.locator('[name="measure_height"]').dispatch_event("change")
    tab.wait_for_timeout(500)  # the debounced last update


def test_a_group_of_three_from_configurator_to_tracking(browser, live_server, app, catalog):
    suit = catalog.products["suit"]
    organiser = _tab(browser)

    # the organiser designs the shared suit and starts a group from the configurator
    organiser.goto(f"{live_server}/products/suit")
    organiser.wait_for_selector("#configurator[data-live=yes]", state="attached")
    for option_id, choice_id in SHARED.items():
        with _propagated(organiser):
            organiser.locator(f'[data-option="{option_id}"] input[value="{choice_id}"]').check()
    organiser.click("text=Start a group order")
    organiser.wait_for_url(re.compile(r"/groups/new\?draft="))
    assert organiser.locator("#mo-fit").is_checked()
    assert not organiser.locator("#mo-fabric").is_checked()
    assert not organiser.locator("#mo-lapel").is_checked()
    organiser.get_by_label("Name of the group").fill("Marta and Tiago's wedding")
    organiser.get_by_label("Your name").fill("Marta Reis")
    organiser.get_by_label("Your email").fill("marta@example.com")
    organiser.get_by_label("How many people will you invite?").fill("4")
    organiser.click("text=Open the group")
    organiser.wait_for_url(re.compile(r"/groups/[\w-]{40,}$"))
    invite = organiser.input_value("#invite-url")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/join/[\w-]{40,}", invite)

    # three members join, each in their own browser
    good = complete_design(suit, {**SHARED, "fit": "classic"})
    member_links = {}
    for name in ("Tiago", "Pedro", "Joao"):
        tab = _tab(browser, width=375)
        tab.goto(invite)
        assert tab.locator('[data-option="fabric"]').count() == 0  # fixed: not a choice
        assert "Charcoal plain weave" in tab.inner_text("#fixed-choices")
        _fill_member(tab, name, good)
        if name == "Pedro":  # try to change a fixed choice by editing the page
            tab.evaluate("document.querySelector('input[name=option_lapel]').value = 'notch'")
        if name == "Joao":  # sleeve barely longer than shoulder-to-elbow: swapped fields?
            with _propagated(tab):
                tab.fill('[name="measure_sleeve"]', "41")
                tab.locator('[name="measure_sleeve"]').dispatch_event("change")
            message = suit.rule("sleeve-longer-than-upper-arm").message
            tab.wait_for_selector('[data-errors-for="measure_sleeve"] .error')
            assert message in tab.inner_text('[data-errors-for="measure_sleeve"]')
        assert tab.evaluate("document.documentElement.scrollWidth") <= 375
        tab.click("text=Join the group")
        tab.wait_for_url(re.compile(r"/member/[\w-]{40,}$"))
        member_links[name] = tab
    joao = member_links["Joao"]
    assert "cannot be made yet" in joao.inner_text("#member-status")
    assert "at least 10 cm longer" in joao.inner_text("#member-status")
    assert "You are in, Tiago" in member_links["Tiago"].inner_text("#member-status")
    assert "Joao" not in member_links["Tiago"].inner_text("main")

    # the organiser sees first names, Joao blocked with the reason, and the running total
    organiser.reload()
    members = organiser.inner_text("#members")
    assert all(name in members for name in ("Tiago", "Pedro", "Joao"))
    assert "at least 10 cm longer" in members and "pedro@example.com" not in members
    assert "3 of 4 joined" in organiser.inner_text("#member-counts")
    assert "Not included: Joao" in organiser.inner_text("#left-out")
    assert "3 more ready members: 5% off each unit" in organiser.inner_text("#next-tier")

    # Joao fixes his sleeve with his own link; now everyone is ready
    with _propagated(joao):
        joao.fill('[name="measure_sleeve"]', str(good["measurements"]["sleeve"]))
        joao.locator('[name="measure_sleeve"]').dispatch_event("change")
    joao.click("text=Save my changes")
    joao.wait_for_selector("#member-status.ok")
    organiser.reload()
    assert organiser.locator("#left-out").count() == 0
    assert "2 more ready members: 5% off each unit" in organiser.inner_text("#next-tier")
    total = organiser.inner_text("#tally-total")

    # the organiser places the group and follows it
    organiser.get_by_label("Shipping address").fill("Rua do Almada 10\n4050 Porto")
    organiser.click("text=Place the order for 3 members")
    organiser.wait_for_selector("#tracking-link")
    assert total in organiser.inner_text(".placed-box")
    organiser.click("#tracking-link")
    organiser.wait_for_url(re.compile(r"/track/[\w-]{30,}$"))
    assert organiser.locator("li.unit").count() == 3
    assert "Tiago" in organiser.inner_text("#unit-1") and "Joao" in organiser.inner_text("#unit-3")

    with app.app_context():
        order = db.session.execute(select(Order)).scalar_one()
        assert order.source == "group" and [u.label for u in order.units] == [
            "Tiago", "Pedro", "Joao"]
        assert all(u.design["options"]["lapel"] == "peak" for u in order.units)
        for unit in order.units:
            assert unit.work_order.status == "done", unit.work_order.error
            text, _ = pdf_text(storage().read(unit.work_order.path))
            assert squash(unit.code) in squash(text)
        pedro = db.session.execute(select(GroupMember).where(
            GroupMember.first_name == "Pedro")).scalar_one()
        assert pedro.unit_id is not None

    # the invitation takes nobody now; a member's link shows their own unit
    late = _tab(browser)
    late.goto(invite)
    assert "The order is placed" in late.inner_text("main")
    assert late.locator('[name="first_name"]').count() == 0
    member_links["Tiago"].reload()
    assert "is on its way" in member_links["Tiago"].inner_text("#member-status")
    for tab in (organiser, late, *member_links.values()):
        assert not [e for e in tab.console_errors if "Content Security Policy" in e]


def test_the_organiser_page_reads_well_at_375_px(browser, live_server, app, catalog):
    from configurator.services import groups as group_service
    from configurator.services.groups import GroupSettings, MemberDetails
    from configurator.models._types import utcnow
    from datetime import timedelta

    suit = catalog.products["suit"]
    with app.app_context():
        design = complete_design(suit, SHARED)
        group = group_service.create_group(suit, design, GroupSettings(
            "A team with a rather long name for a small phone screen", "Marta Reis",
            "marta@example.com", 12, utcnow().date() + timedelta(days=7)),
            group_service.suggested_member_options(suit))
        group_service.join_group(group, MemberDetails("Bartholomew-Alexander", "b@example.com",
                                                      label="head of procurement"), design)
        token = group.organiser_token
    tab = _tab(browser, width=375)
    tab.goto(f"{live_server}/groups/{token}")
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways ({width} px)"
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.className") == "skip"
