"""What a group's organiser and members type, checked field by field: the group's settings and a
member's details. Each problem names its field and says what to enter (`GroupError`)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from email_validator import EmailNotValidError, validate_email

from ..models import GroupMember, GroupOrder
from .orders import MAX_UNITS, Problem

MAX_MEMBERS = MAX_UNITS  # the whole group goes into one order
MAX_DEADLINE_DAYS = 90


class GroupError(Exception):
    """A group change cannot be made; `problems` name the field and say what to do."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class GroupClosed(GroupError):
    """The group no longer takes joins or changes (deadline passed, closed or placed)."""


def group_error(field: str, rule: str, message: str) -> GroupError:
    return GroupError([Problem(None, field, rule, message)])


@dataclass(frozen=True)
class GroupSettings:
    title: str
    organiser_name: str
    organiser_email: str
    expected_members: int
    deadline: date  # the group closes at the end of this day (UTC)


@dataclass(frozen=True)
class MemberDetails:
    first_name: str
    email: str
    full_name: str = ""
    label: str = ""


def settings_problems(settings: GroupSettings, now: datetime) -> list[Problem]:
    """Everything wrong with a new group's settings, each naming its field."""
    problems = _text_problems((("title", _line(settings.title), 120, "a name for the group"),
                               ("organiser_name", _line(settings.organiser_name), 200,
                                "your name")))
    try:
        email_address(settings.organiser_email)
    except GroupError as exc:
        problems += [Problem(None, "organiser_email", p.rule, p.message) for p in exc.problems]
    return problems + expected_problems(settings.expected_members) + deadline_problems(
        settings.deadline, now)


def _text_problems(fields: Iterable[tuple[str, str, int, str]]) -> list[Problem]:
    """(field, cleaned value, most characters, what to enter when it is required)."""
    problems = []
    for field, value, limit, required in fields:
        if required and not value:
            problems.append(Problem(None, field, "required", f"Please enter {required}."))
        elif len(value) > limit:
            problems.append(Problem(None, field, "length",
                                    f"Too long: {limit} characters at most."))
    return problems


def expected_problems(expected: object) -> list[Problem]:
    if isinstance(expected, int) and 1 <= expected <= MAX_MEMBERS:
        return []
    return [Problem(None, "expected_members", "range", (
        f"Please enter how many people you will invite: 1 to {MAX_MEMBERS} (one order holds "
        f"{MAX_MEMBERS} units at most)."))]


def deadline_problems(deadline: object, now: datetime) -> list[Problem]:
    if not isinstance(deadline, date):
        return [Problem(None, "deadline", "required", "Please choose the last day to join.")]
    if deadline < now.date():
        return [Problem(None, "deadline", "past", "The last day to join cannot be in the past.")]
    if deadline > now.date() + timedelta(days=MAX_DEADLINE_DAYS):
        return [Problem(None, "deadline", "too-far", (
            f"The last day to join can be at most {MAX_DEADLINE_DAYS} days from today: "
            "cloth and workshop capacity are only promised that far ahead."))]
    return []


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time())


def _line(value: object, limit: int | None = None) -> str:
    text = " ".join(value.replace("\x00", "").split()) if isinstance(value, str) else ""
    return text[:limit] if limit else text


def email_address(value: object) -> str:
    try:
        return validate_email(_line(value), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise group_error("email", "email", f"Please check the email address: {exc}") from exc


def clean_details(group: GroupOrder, member: GroupMember, d: MemberDetails) -> MemberDetails:
    """A member's details as stored (spaces tidied, email normalised), or a GroupError with
    every field that is wrong; a first name another member of the group has is taken."""
    first, full, label = _line(d.first_name), _line(d.full_name), _line(d.label)
    problems = _text_problems((("first_name", first, 60, "your first name"),
                               ("full_name", full, 200, ""), ("label", label, 200, "")))
    if first and any(m.first_name.casefold() == first.casefold()
                     for m in group.members if m is not member):
        initial = full.split()[-1][0] if len(full.split()) > 1 else "S"
        problems.append(Problem(None, "first_name", "taken", (
            f"Someone called {first} has already joined this group; please add the initial "
            f"of your surname (like {first} {initial}.) so the organiser can tell you apart.")))
    try:
        email = email_address(d.email)
    except GroupError as exc:
        problems, email = problems + exc.problems, ""
    if problems:
        raise GroupError(problems)
    return MemberDetails(first, email, full, label)
