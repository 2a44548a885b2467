"""Drafts: a design saved under a shareable token. Drafts never change; editing one saves a new
draft that remembers its parent, so a shared link always shows what was shared."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select

from ..domain.model import ProductSpec
from ..extensions import db, run_core
from ..models import Draft, Order, Unit
from ..models._types import new_token, utcnow
from . import direct
from .orders import normalise_design, order_by_tracking_token

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class Start:
    """Where a new design starts from: a product, a design, and the draft it came from."""
    product_id: str
    design: dict
    parent_token: str | None = None
    label: str = ""


# Built once, values bound at execution: a draft is written and never changed, so the ORM's
# unit of work (and the refresh of the committed object when its token is read) buys nothing.
_INSERT = insert(Draft.__table__).returning(Draft.__table__.c.id)
_BY_TOKEN = select(Draft).where(Draft.token == bindparam("token"))


def save_draft(spec: ProductSpec, design: dict, parent_token: str | None = None) -> Draft:
    """Store `design` (complete or not) as a new draft and commit; the draft is returned as
    stored, outside the session."""
    parent = parent_token if parent_token and get_draft(parent_token) else None
    values = {"token": new_token(), "product_id": spec.id, "spec_version": spec.version,
              "design": normalise_design(design), "parent_token": parent, "created_at": utcnow()}
    draft_id = run_core(_INSERT, values).scalar_one()
    db.session.commit()
    return Draft(id=draft_id, **values)


def get_draft(token: str | None) -> Draft | None:
    """The draft behind a link, or None (also for malformed tokens)."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    with direct.alone():
        return db.session.execute(_BY_TOKEN, {"token": token}).scalar_one_or_none()


def start_from_draft(token: str | None) -> Start | None:
    draft = get_draft(token)
    if draft is None:
        return None
    return Start(draft.product_id, normalise_design(draft.design), draft.token)


def start_from_unit(tracking_token: str | None, position: object) -> Start | None:
    """A new design from one unit of an earlier order ("the same, in grey")."""
    order = order_by_tracking_token(tracking_token) if tracking_token else None
    unit = _unit_at(order, position) if order else None
    if unit is None:
        return None
    return Start(unit.product_id, normalise_design(unit.design), None, unit.label)


def _unit_at(order: Order, position: object) -> Unit | None:
    try:
        wanted = int(str(position))
    except ValueError:
        return None
    return next((u for u in order.units if u.position == wanted), None)
