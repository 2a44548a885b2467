"""Group orders, through the service and the real app: the organiser fixes the shared choices,
members join with their own measurements, a bad measurement blocks only its member, the
deadline closes the group on the clock, and the group is placed as one order with a unit and a
rendered work order per member. Links are unguessable and show nobody else's details."""
from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from configurator.domain import quote
from configurator.models import GroupMember, GroupOrder, Order, Unit, WorkOrder
from configurator.models._types import utcnow
from configurator.services import group_checkout, groups, stock
from configurator.services.groups import GroupSettings, MemberDetails
from configurator.services.orders import CustomerDetails
from configurator.workorders.storage import storage
from conftest import TEST_DATABASE_URL, complete_design, csrf_from
from workorders_support import pdf_text, squash

SHARED = {"fabric": "charcoal-plain-s110", "lapel": "peak", "buttons": "two"}
MEMBERS_CHOOSE = ("fit", "trouser_hem", "monogram_position")
ORGANISER = CustomerDetails("Marta Reis", "marta@example.com", "Rua do Almada 10\n4050 Porto")


@pytest.fixture
def suit(catalog):
    return catalog.products["suit"]


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _settings(**changes) -> GroupSettings:
    values = {"title": "Marta and Tiago's wedding", "organiser_name": "Marta Reis",
              "organiser_email": "marta@example.com", "expected_members": 4,
              "deadline": utcnow().date() + timedelta(days=14), **changes}
    return GroupSettings(**values)


def make_group(suit, member_options=MEMBERS_CHOOSE, **settings) -> GroupOrder:
    return groups.create_group(suit, complete_design(suit, SHARED), _settings(**settings),
                               member_options)


def member_design(suit, **measurements) -> dict:
    design = complete_design(suit, {**SHARED, "fit": "classic"})
    design["measurements"].update(measurements)
    return design


def join(group, first_name, design, **details):
    return groups.join_group(group, MemberDetails(
        first_name, details.pop("email", f"{first_name.lower()}@example.com"), **details), design)


BAD_SLEEVE = {"sleeve": 41, "shoulder_to_elbow": 36}  # less than 10 cm apart: a swapped pair?


# -- creating --------------------------------------------------------------------------------

def test_size_related_and_monogram_options_are_suggested_for_members(suit):
    suggested = groups.suggested_member_options(suit)
    assert {"fit", "trouser_hem", "monogram_position"} <= set(suggested)
    assert not {"fabric", "lapel", "lining", "pieces"} & set(suggested)


def test_a_group_keeps_the_shared_choices_and_no_measurements(db, suit):
    group = make_group(suit)
    assert group.state == "open" and group.spec_version == suit.version
    assert group.base_design["options"]["fabric"] == SHARED["fabric"]
    assert "measurements" not in group.base_design
    assert groups.fixed_choices(group)["lapel"] == "peak"
    assert "fit" not in groups.fixed_choices(group)
    assert len({group.organiser_token, group.invite_token}) == 2
    assert all(len(t) >= 43 for t in (group.organiser_token, group.invite_token))


def test_shared_choices_that_cannot_go_together_are_refused_with_the_rule(db, suit):
    rule = suit.rule("linen-no-peak")
    design = complete_design(suit)
    design["options"].update(fabric="sand-linen", lapel="peak")
    with pytest.raises(groups.GroupError) as caught:
        groups.create_group(suit, design, _settings(), MEMBERS_CHOOSE)
    assert rule.message in str(caught.value)
    assert _count(db, GroupOrder) == 0


@pytest.mark.parametrize("changes, field", [
    ({"deadline": date(2020, 1, 1)}, "deadline"),
    ({"deadline": utcnow().date() + timedelta(days=400)}, "deadline"),
    ({"expected_members": 0}, "expected_members"),
    ({"expected_members": 51}, "expected_members"),
    ({"organiser_email": "marta-at-home"}, "organiser_email"),
    ({"title": "   "}, "title"),
])
def test_bad_group_settings_name_the_field_and_write_nothing(db, suit, changes, field):
    with pytest.raises(groups.GroupError) as caught:
        make_group(suit, **changes)
    assert [p.field for p in caught.value.problems] == [field]
    assert _count(db, GroupOrder) == 0


def test_a_fixed_option_left_unchosen_is_asked_for(db, suit):
    design = complete_design(suit, SHARED)
    del design["options"]["vents"]
    with pytest.raises(groups.GroupError) as caught:
        groups.create_group(suit, design, _settings(), MEMBERS_CHOOSE)
    assert [p.field for p in caught.value.problems] == ["options.vents"]


# -- joining ---------------------------------------------------------------------------------

def test_a_member_cannot_change_a_fixed_choice_whatever_they_post(db, suit):
    group = make_group(suit)
    posted = member_design(suit)
    posted["options"].update(fabric="navy-twill-s110", lapel="notch", fit="slim")
    member = join(group, "Tiago", posted)
    assert member.design["options"]["fabric"] == SHARED["fabric"]
    assert member.design["options"]["lapel"] == "peak"
    assert member.design["options"]["fit"] == "slim"  # the member's own choice is kept


def test_a_bad_measurement_blocks_only_that_member_with_the_reason(db, suit):
    group = make_group(suit)
    join(group, "Tiago", member_design(suit))
    pedro = join(group, "Pedro", member_design(suit, **BAD_SLEEVE))
    assert pedro.status == "blocked"
    assert pedro.problems == [suit.rule("sleeve-longer-than-upper-arm").message]
    lines, tally = group_checkout.review(group)
    assert [(line.member.first_name, line.status) for line in lines] == [
        ("Tiago", "ready"), ("Pedro", "blocked")]
    assert tally.units == 1


def test_a_blocked_member_becomes_ready_once_fixed(db, suit):
    group = make_group(suit)
    pedro = join(group, "Pedro", member_design(suit, **BAD_SLEEVE))
    groups.update_member(pedro, MemberDetails("Pedro", "pedro@example.com"), member_design(suit))
    assert pedro.status == "ready" and pedro.problems == []


def test_a_fixed_choice_that_does_not_suit_a_body_says_who_chose_it(db, suit):
    design = complete_design(suit, {**SHARED, "fabric": "sand-linen", "lapel": "notch"})
    group = groups.create_group(suit, design, _settings(), MEMBERS_CHOOSE)
    big = {**member_design(suit), "measurements": {**design["measurements"], "chest": 146,
                                                   "neck": 48, "waist": 130}}
    member = join(group, "Rui", big)
    assert member.status == "blocked"
    assert any("chosen by the organiser" in p for p in member.problems)


def test_a_member_whose_chosen_lining_ran_out_is_blocked_with_the_reason(db, suit):
    group = make_group(suit, member_options=(*MEMBERS_CHOOSE, "lining"))
    design = member_design(suit)
    lining = suit.option("lining").choice(design["options"]["lining"])
    stock.set_on_hand(suit, lining.material, Decimal(0))
    db.session.commit()
    member = join(group, "Tiago", design)
    assert (member.status, member.problems) == ("blocked", [f"{lining.label} is out of stock."])


def test_the_same_first_name_twice_is_refused_with_a_way_out(db, suit):
    group = make_group(suit)
    join(group, "Rui", member_design(suit))
    with pytest.raises(groups.GroupError) as caught:
        join(group, "rui", member_design(suit))
    assert "add the initial of your surname" in str(caught.value)
    assert _count(db, GroupMember) == 1


def test_a_member_can_leave_and_their_entries_are_deleted(db, suit):
    group = make_group(suit)
    member = join(group, "Tiago", member_design(suit))
    groups.leave_group(member)
    assert _count(db, GroupMember) == 0


def test_the_organiser_can_remove_a_member_until_the_order_is_placed(client, db, suit):
    group = make_group(suit)
    join(group, "Tiago", member_design(suit))
    pedro = join(group, "Pedro", member_design(suit))
    page = client.get(f"/groups/{group.organiser_token}").get_data(as_text=True)
    removed = client.post(f"/groups/{group.organiser_token}/members/{pedro.id}/remove",
                          data={"csrf_token": csrf_from(page)})
    assert removed.status_code == 302
    assert [m.first_name for m in db.session.execute(select(GroupMember)).scalars()] == ["Tiago"]
    group_checkout.place_group(group, ORGANISER, _roster(group))
    with pytest.raises(groups.GroupClosed):
        groups.remove_member(group, group.members[0].id)


# -- the deadline ----------------------------------------------------------------------------

def test_the_deadline_closes_the_group_without_any_job(db, suit):
    group = make_group(suit, deadline=utcnow().date())
    member = join(group, "Tiago", member_design(suit))
    after = datetime.combine(utcnow().date() + timedelta(days=1), datetime.min.time())
    assert groups.state_of(group, after - timedelta(seconds=1)) == "open"
    assert groups.state_of(group, after) == "closed"
    with pytest.raises(groups.GroupClosed) as caught:
        groups.join_group(group, MemberDetails("Pedro", "p@example.com"), member_design(suit),
                          now=after)
    assert "closed on" in str(caught.value) and "extend the deadline" in str(caught.value)
    with pytest.raises(groups.GroupClosed):
        groups.update_member(member, MemberDetails("Tiago", "t@example.com"),
                             member_design(suit), now=after)
    with pytest.raises(groups.GroupClosed):
        groups.leave_group(member, now=after)
    assert _count(db, GroupMember) == 1


def test_closing_now_and_reopening_with_a_later_day(db, suit):
    group = make_group(suit)
    groups.close_group(group)
    assert groups.state_of(group) == "closed"
    with pytest.raises(groups.GroupClosed):
        join(group, "Tiago", member_design(suit))
    groups.change_settings(group, utcnow().date() + timedelta(days=3), 6)
    assert groups.state_of(group) == "open" and group.expected_members == 6
    join(group, "Tiago", member_design(suit))


# -- the running total -----------------------------------------------------------------------

def test_running_total_shows_the_tier_reached_and_the_next(db, suit):
    group = make_group(suit, expected_members=6)
    for name in ("Ana", "Bia", "Carla", "Duarte"):
        join(group, name, member_design(suit))
    _, four = group_checkout.review(group)
    assert four.tier is None and four.discount == 0
    assert (four.next_tier.min_units, four.to_next) == (5, 1)
    join(group, "Eva", member_design(suit))
    _, five = group_checkout.review(group)
    price = quote(suit, member_design(suit)).total
    assert five.tier.percent_off == Decimal(5) and five.subtotal == price * 5
    assert five.discount == (price * Decimal("0.05")).quantize(Decimal("0.01")) * 5
    assert (five.next_tier.min_units, five.to_next) == (10, 5)


# -- placing ---------------------------------------------------------------------------------

def _roster(group) -> list[str]:
    return group_checkout.roster_of(
        line.member for line in group_checkout.review(group)[0] if line.status == "ready")


def test_the_group_is_placed_as_one_order_with_a_unit_and_work_order_per_member(db, suit):
    group = make_group(suit, expected_members=5)
    for name in ("Tiago", "Pedro", "Joao", "Rui", "Duarte"):
        join(group, name, member_design(suit), label="groom" if name == "Tiago" else "")
    _, tally = group_checkout.review(group)
    order = group_checkout.place_group(group, ORGANISER, _roster(group), today=date(2026, 3, 2))
    stored = db.session.get(Order, order.id)
    assert stored.source == "group" and stored.customer_name == "Marta Reis"
    assert [u.label for u in stored.units] == ["Tiago (groom)", "Pedro", "Joao", "Rui", "Duarte"]
    assert stored.total == tally.total and all("discount" in u.quote for u in stored.units)
    assert all(u.design["options"]["lapel"] == "peak" for u in stored.units)
    assert _count(db, WorkOrder) == 5
    for unit in stored.units:
        assert unit.work_order.status == "done", unit.work_order.error
        text, _ = pdf_text(storage().read(unit.work_order.path))
        assert squash(unit.code) in squash(text) and squash(unit.label) in squash(text)
    assert group.state == "placed" and group.order_id == order.id
    assert sorted(m.unit_id for m in group.members) == sorted(u.id for u in stored.units)


def test_blocked_members_are_left_out_and_told(db, suit):
    group = make_group(suit)
    join(group, "Tiago", member_design(suit))
    pedro = join(group, "Pedro", member_design(suit, **BAD_SLEEVE))
    order = group_checkout.place_group(group, ORGANISER, _roster(group))
    assert [u.label for u in order.units] == ["Tiago"]
    assert pedro.unit_id is None and pedro.problems


def test_placing_twice_is_refused(db, suit):
    group = make_group(suit)
    join(group, "Tiago", member_design(suit))
    roster = _roster(group)
    group_checkout.place_group(group, ORGANISER, roster)
    with pytest.raises(groups.GroupClosed):
        group_checkout.place_group(group, ORGANISER, roster)
    with pytest.raises(groups.GroupClosed):
        join(group, "Pedro", member_design(suit))
    assert _count(db, Order) == 1


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL "
                    "(set CONFIGURATOR_TEST_DATABASE_URL) for concurrent transactions")
def test_two_clicks_on_place_at_the_same_time_make_one_order(app, suit):
    with app.app_context():
        group = make_group(suit)
        join(group, "Tiago", member_design(suit))
        token, roster = group.organiser_token, _roster(group)
    outcomes: list[str] = []

    def place():
        with app.app_context():
            try:
                group_checkout.place_group(groups.group_for_organiser(token), ORGANISER, roster)
                outcomes.append("placed")
            except groups.GroupError:
                outcomes.append("refused")

    threads = [threading.Thread(target=place) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["placed", "refused", "refused"]
    with app.app_context():
        from configurator.extensions import db

        assert _count(db, Order) == 1


def test_a_group_that_changed_since_the_page_was_shown_is_not_placed(db, suit):
    group = make_group(suit)
    join(group, "Tiago", member_design(suit))
    seen = _roster(group)
    join(group, "Pedro", member_design(suit))
    with pytest.raises(groups.GroupError) as caught:
        group_checkout.place_group(group, ORGANISER, seen)
    assert "changed while you were looking" in str(caught.value)
    assert _count(db, Order) == 0 and groups.state_of(group) == "open"


def test_a_member_who_changed_their_entries_since_the_page_was_shown_stops_placing(db, suit):
    group = make_group(suit)
    tiago = join(group, "Tiago", member_design(suit))
    seen = _roster(group)
    groups.update_member(tiago, MemberDetails("Tiago", "t@example.com"),
                         member_design(suit, chest=108))
    with pytest.raises(groups.GroupError):
        group_checkout.place_group(group, ORGANISER, seen)
    assert _count(db, Order) == 0


def test_nothing_to_place_without_a_ready_member(db, suit):
    group = make_group(suit)
    join(group, "Pedro", member_design(suit, **BAD_SLEEVE))
    with pytest.raises(groups.GroupError) as caught:
        group_checkout.place_group(group, ORGANISER, [])
    assert "Nobody in the group is ready" in str(caught.value)


def test_cloth_running_out_at_placing_names_the_member_and_places_nothing(db, suit):
    from configurator.domain import bill_of_materials

    group = make_group(suit)
    design = member_design(suit)
    join(group, "Tiago", design)
    join(group, "Pedro", design)
    material = suit.option("fabric").choice(SHARED["fabric"]).material
    one = next(b.quantity for b in bill_of_materials(suit, design) if b.material == material)
    stock.set_on_hand(suit, material, stock.round_up(one * Decimal("1.5")))
    db.session.commit()
    with pytest.raises(groups.GroupError) as caught:
        group_checkout.place_group(group, ORGANISER, _roster(group))
    assert "out of stock" in str(caught.value) and "Pedro:" in str(caught.value)
    assert _count(db, Order) == 0 and _count(db, Unit) == 0
    assert groups.state_of(group) == "open"


def test_a_bad_delivery_address_places_nothing_and_keeps_the_group_open(db, suit):
    group = make_group(suit)
    join(group, "Tiago", member_design(suit))
    with pytest.raises(groups.GroupError) as caught:
        group_checkout.place_group(
            group, CustomerDetails("Marta", "marta@example.com", " "), _roster(group))
    assert [p.field for p in caught.value.problems] == ["customer.address"]
    assert _count(db, Order) == 0 and groups.state_of(group) == "open"


# -- through the app -------------------------------------------------------------------------

def form_fields(design: dict, **extra) -> dict:
    data = {f"option_{k}": v for k, v in design["options"].items()}
    data.update({f"measure_{k}": str(v) for k, v in design["measurements"].items()})
    data.update({f"text_{k}": v for k, v in design["texts"].items()})
    return {**data, **extra}


def start_group_in_the_shop(client, suit, **fields) -> str:
    """Configurator -> "Start a group order" -> the settings form; the organiser page's path."""
    page = client.get("/products/suit")
    design = complete_design(suit, SHARED)
    started = client.post("/products/suit/group", data=form_fields(
        design, csrf_token=csrf_from(page.data)))
    assert started.status_code == 302 and "/groups/new?draft=" in started.location
    new = client.get(started.location).get_data(as_text=True)
    draft = re.search(r'name="draft"[^>]*value="([^"]+)"', new).group(1)
    data = {"csrf_token": csrf_from(new), "draft": draft, "title": "Marta and Tiago's wedding",
            "organiser_name": "Marta Reis", "organiser_email": "marta@example.com",
            "expected_members": "4", "member_options": list(MEMBERS_CHOOSE),
            "deadline": (utcnow().date() + timedelta(days=10)).isoformat(), **fields}
    created = client.post("/groups/new", data=data)
    assert created.status_code == 302, created.get_data(as_text=True)[:3000]
    return created.location


def invite_path(client, organiser_path: str) -> str:
    html = client.get(organiser_path).get_data(as_text=True)
    return re.search(r'id="invite-url" value="https?://[^/]+(/join/[\w-]+)"', html).group(1)


def join_in_the_app(client, path: str, first_name: str, design: dict, **extra):
    page = client.get(path)
    fields = {"email": f"{first_name.lower()}@example.com", **extra}
    return client.post(path, data=form_fields(
        design, csrf_token=csrf_from(page.data), action="save", first_name=first_name, **fields))


def test_the_new_group_form_ticks_the_suggested_options(client, suit):
    page = client.get("/products/suit")
    started = client.post("/products/suit/group", data=form_fields(
        complete_design(suit, SHARED), csrf_token=csrf_from(page.data)))
    html = client.get(started.location).get_data(as_text=True)
    for option_id in groups.suggested_member_options(suit):
        assert re.search(rf'value="{option_id}" id="mo-{option_id}" checked', html)
    assert not re.search(r'value="fabric" id="mo-fabric" checked', html)
    assert "you chose: Charcoal plain weave" in html


def test_a_whole_group_through_the_app(client, db, suit):
    organiser = start_group_in_the_shop(client, suit)
    invite = invite_path(client, organiser)
    members = {}
    for name, design in (("Tiago", member_design(suit)), ("Pedro", member_design(suit)),
                         ("Joao", member_design(suit, **BAD_SLEEVE))):
        response = join_in_the_app(client, invite, name, design, full_name=f"{name} Silva")
        assert response.status_code == 302 and "/member/" in response.location
        members[name] = response.location
    blocked = client.get(members["Joao"]).get_data(as_text=True)
    assert "cannot be made yet" in blocked
    assert suit.rule("sleeve-longer-than-upper-arm").message.split(".")[0] in blocked

    html = client.get(organiser).get_data(as_text=True)
    assert "<strong>3</strong> of 4 joined" in html and "<strong>1</strong> still missing" in html
    assert "<strong>2</strong> ready to order" in html
    assert "Not included:</strong> Joao" in html and "2 units (ready members)" in html
    assert "3 more ready members</strong>: 5% off each unit" in html
    for private in ("Silva", "tiago@example.com", "Rua do Almada"):
        assert private not in html

    placed = client.post(f"{organiser}/place", data={
        "csrf_token": csrf_from(html), "name": "Marta Reis", "email": "marta@example.com",
        "address": "Rua do Almada 10\n4050 Porto",
        "roster": re.search(r'name="roster" value="([\d:,]+)"', html).group(1)})
    assert placed.status_code == 302
    after = client.get(organiser).get_data(as_text=True)
    tracking = re.search(r'id="tracking-link">https?://[^/]+(/track/[\w-]+)<', after).group(1)
    track = client.get(tracking).get_data(as_text=True)
    assert "Tiago" in track and "Pedro" in track and "Joao" not in track
    order = db.session.execute(select(Order)).scalar_one()
    assert order.source == "group" and len(order.units) == 2
    assert "unit <strong>U-" in client.get(members["Tiago"]).get_data(as_text=True)
    assert "placed without you" in client.get(members["Joao"]).get_data(as_text=True)


def test_a_posted_fixed_choice_is_ignored_by_the_app(client, db, suit):
    invite = invite_path(client, start_group_in_the_shop(client, suit))
    design = member_design(suit)
    design["options"].update(fabric="navy-twill-s110", lapel="notch")
    assert join_in_the_app(client, invite, "Tiago", design).status_code == 302
    member = db.session.execute(select(GroupMember)).scalar_one()
    assert member.design["options"]["fabric"] == SHARED["fabric"]
    assert member.design["options"]["lapel"] == "peak"


def test_a_members_link_shows_only_their_own_details(client, db, suit):
    invite = invite_path(client, start_group_in_the_shop(client, suit))
    join_in_the_app(client, invite, "Bruno", member_design(suit, chest=111),
                    full_name="Bruno Ferreira", member_label="usher")
    pedro = join_in_the_app(client, invite, "Pedro", member_design(suit)).location
    for path in (pedro, invite):
        html = client.get(path).get_data(as_text=True)
        for private in ("Bruno", "Ferreira", "bruno@example.com", "usher", 'value="111"'):
            assert private not in html, (path, private)
    assert 'value="pedro@example.com"' in client.get(pedro).get_data(as_text=True)


def test_a_closed_group_refuses_joins_in_the_app(client, db, suit):
    organiser = start_group_in_the_shop(client, suit)
    invite = invite_path(client, organiser)
    group = db.session.execute(select(GroupOrder)).scalar_one()
    group.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    html = client.get(invite).get_data(as_text=True)
    assert "This group is closed" in html and 'name="first_name"' not in html
    response = client.post(invite, data=form_fields(
        member_design(suit), csrf_token=csrf_from(client.get(organiser).data), action="save",
        first_name="Late", email="late@example.com"))
    assert response.status_code == 422 and "closed on" in response.get_data(as_text=True)
    assert _count(db, GroupMember) == 0


def test_a_bad_number_is_shown_next_to_its_field_and_nothing_is_saved(client, db, suit):
    invite = invite_path(client, start_group_in_the_shop(client, suit))
    response = join_in_the_app(client, invite, "Tiago", member_design(suit),
                               measure_chest="forty")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'data-errors-for="measure_chest"[^>]*>.*?Please enter a number', html,
                     re.S)
    assert _count(db, GroupMember) == 0


def test_organiser_settings_and_closing_through_the_app(client, db, suit):
    organiser = start_group_in_the_shop(client, suit)
    html = client.get(organiser).get_data(as_text=True)
    for fields, message in ((("2001-01-01", "4"), "cannot be in the past"),
                            (("2030-01-01", "x"), "whole number")):
        bad = client.post(f"{organiser}/settings", data={
            "csrf_token": csrf_from(html), "deadline": fields[0], "expected_members": fields[1]})
        assert bad.status_code == 422 and message in bad.get_data(as_text=True)
    client.post(f"{organiser}/close", data={"csrf_token": csrf_from(html)})
    assert "Closed for joining" in client.get(organiser).get_data(as_text=True)
    later = (utcnow().date() + timedelta(days=20)).isoformat()
    client.post(f"{organiser}/settings", data={
        "csrf_token": csrf_from(html), "deadline": later, "expected_members": "7"})
    assert "Open for joining" in client.get(organiser).get_data(as_text=True)


def test_every_group_form_needs_its_csrf_token(client, db, suit):
    organiser = start_group_in_the_shop(client, suit)
    invite = invite_path(client, organiser)
    join_in_the_app(client, invite, "Tiago", member_design(suit))
    member = db.session.execute(select(GroupMember)).scalar_one()
    posts = {
        "/products/suit/group": form_fields(complete_design(suit)),
        "/groups/new": {"title": "x"},
        f"{organiser}/place": {"name": "M", "email": "m@example.com", "address": "Porto"},
        f"{organiser}/settings": {"deadline": "2030-01-01", "expected_members": "3"},
        f"{organiser}/close": {},
        f"{organiser}/members/{member.id}/remove": {},
        invite: form_fields(member_design(suit), action="save", first_name="Eve",
                            email="eve@example.com"),
        f"/member/{member.token}": form_fields(member_design(suit), action="save",
                                               first_name="Eve", email="eve@example.com"),
        f"/member/{member.token}/leave": {},
    }
    for path, data in posts.items():
        response = client.post(path, data=data)
        assert response.status_code in (302, 400, 404, 422), path
    db.session.expire_all()
    group = db.session.execute(select(GroupOrder)).scalar_one()
    assert groups.state_of(group) == "open" and _count(db, Order) == 0
    assert [m.first_name for m in group.members] == ["Tiago"]
    assert _count(db, GroupOrder) == 1


@pytest.mark.parametrize("path", [
    "/groups/short", "/groups/" + "x" * 43, "/join/abc", "/join/" + "y" * 43,
    "/member/" + "z" * 43, "/member/%00%ff", "/groups/new?draft=nope", "/join/" + "../" * 10,
])
def test_unknown_or_malformed_links_are_not_found(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("action", ["place", "settings", "close"])
def test_organiser_actions_on_an_unknown_group_are_not_found(client, suit, action):
    token = csrf_from(client.get("/products/suit").data)
    response = client.post(f"/groups/{'x' * 43}/{action}", data={"csrf_token": token})
    assert response.status_code == 404


def test_user_text_is_escaped_and_pages_need_no_inline_script_or_style(client, db, suit):
    evil = '<script>alert("x")</script>'
    organiser = start_group_in_the_shop(client, suit, title=evil, organiser_name=evil)
    invite = invite_path(client, organiser)
    member = join_in_the_app(client, invite, "<b>Eve</b>", member_design(suit),
                             member_label=evil, email="eve@example.com").location
    for path in (organiser, invite, member):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>Eve" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\sstyle=|\son[a-z]+=", html), path
    assert "&lt;b&gt;Eve&lt;/b&gt;" in client.get(organiser).get_data(as_text=True)


def test_garbage_posts_never_cause_a_server_error(client, db, suit):
    organiser = start_group_in_the_shop(client, suit)
    invite = invite_path(client, organiser)
    token = csrf_from(client.get(organiser).data)
    garbage = [
        (f"{organiser}/place", {"roster": "1,abc,99999999999999999999999,-3", "name": "\x00"}),
        (f"{organiser}/settings", {"deadline": "2026-13-45", "expected_members": "1e9"}),
        (f"{organiser}/settings", {"deadline": "\x00", "expected_members": "-1"}),
        (invite, {"action": "save", "option_fit": "\x00", "measure_chest": "1e999",
                  "first_name": "ü" * 500, "email": "@"}),
        (invite, {"action": "nonsense", "option_fabric": ["a", "b"], "text_monogram": "x" * 999}),
        ("/groups/new", {"draft": "x" * 43, "member_options": ["nope"] * 30}),
    ]
    for path, data in garbage:
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code in (200, 302, 400, 404, 422), (path, response.status_code)
