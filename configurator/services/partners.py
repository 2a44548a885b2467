"""Partner accounts and their API keys: keys are shown once, stored as a SHA-256, revocable."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from ..extensions import db
from ..models import ApiKey, Order, Partner, PartnerStaff
from ..models._types import utcnow
from . import direct, remembered

KEY_PREFIX = "pk_live_"
DISPLAY_CHARS = len(KEY_PREFIX) + 4


class PartnerError(ValueError):
    """A partner change that cannot be made; the message says why."""


class AuthenticationFailed(Exception):
    """No usable key: `status` is 401 (missing or unknown) or 403 (revoked, partner disabled)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `secret` exists only here, never in the database."""
    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    # Keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced back to the key.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_partner(name: str, contact_email: str) -> Partner:
    name, contact_email = name.strip(), contact_email.strip()
    if not name or "@" not in contact_email:
        raise PartnerError("A partner needs a name and a contact email address.")
    if db.session.scalar(select(Partner.id).where(Partner.name == name)) is not None:
        raise PartnerError(f"A partner named {name!r} already exists; choose another name.")
    partner = Partner(name=name, contact_email=contact_email)
    db.session.add(partner)
    db.session.commit()
    return partner


def set_partner_active(partner: Partner, active: bool) -> None:
    partner.active = active
    db.session.commit()
    forget_keys()


def _new_key(partner: Partner, label: str) -> IssuedKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(partner=partner, label=label.strip()[:200], prefix=secret[:DISPLAY_CHARS],
                 key_hash=hash_key(secret))
    db.session.add(key)
    return IssuedKey(key, secret)


def issue_key(partner: Partner, label: str = "") -> IssuedKey:
    issued = _new_key(partner, label)
    db.session.commit()
    return issued


def revoke_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.commit()
    forget_keys()


def rotate_key(key: ApiKey) -> IssuedKey:
    """Revoke `key` and issue its replacement with the same label, in one transaction."""
    if key.revoked_at is not None:
        raise PartnerError(f"Key {key.prefix}… is already revoked; issue a new key instead.")
    key.revoked_at = utcnow()
    issued = _new_key(key.partner, key.label)
    db.session.commit()
    forget_keys()
    return issued


@dataclass(frozen=True)
class KeyHolder:
    """The partner behind an API key, as a request needs it (plain values, no ORM object)."""
    id: int
    name: str
    contact_email: str


# Key and partner in one query, built once: every partner request asks. Plain columns: loading
# the two ORM objects cost a third of the lookup, and nothing changes them.
_KEY, _PARTNER = ApiKey.__table__.c, Partner.__table__.c
_KEY_AND_PARTNER = (
    select(_KEY.key_hash, _KEY.prefix, _KEY.revoked_at, _PARTNER.id, _PARTNER.name,
           _PARTNER.contact_email, _PARTNER.active)
    .join_from(ApiKey.__table__, Partner.__table__, _KEY.partner_id == _PARTNER.id)
    .where(_KEY.key_hash == bindparam("digest")))


def authenticate(authorization: str | None) -> KeyHolder:
    """The partner a `Bearer` header belongs to, or `AuthenticationFailed`.

    A key found good is taken at its word for PARTNER_KEY_MAX_AGE seconds (1) by this process:
    the lookup (a connection from the pool, a query) was about 0.3 ms of a partner order's 4 ms
    of CPU, and a partner's script posts many orders a minute. So a key revoked, or a partner
    disabled, by another process (another web worker, the command line) is refused by every
    process within that time; by this one at once. Unknown, revoked and disabled keys are
    looked up at every request."""
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise AuthenticationFailed(401, "Send your API key as 'Authorization: Bearer pk_live_...'.")
    digest = hash_key(secret)
    return remembered.recall("partner_keys", digest, "PARTNER_KEY_MAX_AGE",
                             lambda: _look_up(digest))


def forget_keys() -> None:
    """Look every key up again at its next use (one was revoked, or a partner changed)."""
    remembered.forget("partner_keys")


def _look_up(digest: str) -> KeyHolder:
    found = next(iter(direct.rows(_KEY_AND_PARTNER, {"digest": digest})), None)
    # The lookup is by hash; compare again in constant time so timing tells nothing either way.
    if found is None or not hmac.compare_digest(found.key_hash, digest):
        raise AuthenticationFailed(
            401, "This API key is not known. Check it, or ask us for a new one.")
    if found.revoked_at is not None:
        raise AuthenticationFailed(
            403, f"API key {found.prefix}… was revoked; use its replacement.")
    if not found.active:
        raise AuthenticationFailed(403, "This partner account is disabled; contact us.")
    return KeyHolder(found.id, found.name, found.contact_email)


def add_staff(partner: Partner, email: str, password: str) -> PartnerStaff:
    email = email.strip().lower()
    if "@" not in email or len(password) < 10:
        raise PartnerError("Staff need an email address and a password of at least 10 characters.")
    if db.session.scalar(select(PartnerStaff.id).where(PartnerStaff.email == email)) is not None:
        raise PartnerError(f"{email} already has a staff login.")
    staff = PartnerStaff(partner=partner, email=email)
    staff.set_password(password)
    db.session.add(staff)
    db.session.commit()
    return staff


def check_staff_login(email: str, password: str) -> PartnerStaff | None:
    staff = db.session.scalar(
        select(PartnerStaff).where(PartnerStaff.email == email.strip().lower()))
    if staff is None or not staff.active or not staff.partner.active:
        return None
    return staff if staff.check_password(password) else None


def find_partner(name_or_id: str) -> Partner | None:
    if name_or_id.isdecimal():
        return db.session.get(Partner, int(name_or_id))
    return db.session.scalar(select(Partner).where(Partner.name == name_or_id))


def partner_order(partner_id: int, order_id: int) -> Order | None:
    """One of the partner's own orders; another partner's id is as unknown as a missing one."""
    return db.session.scalar(
        select(Order).where(Order.id == order_id, Order.partner_id == partner_id))


def partner_orders(partner_id: int, page: int, per_page: int,
                   reference: str | None = None) -> tuple[list[Order], int]:
    """A page of the partner's orders, newest first, and how many there are in all."""
    query = select(Order).where(Order.partner_id == partner_id)
    if reference:
        query = query.where(Order.partner_reference == reference)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    orders = db.session.scalars(
        query.order_by(Order.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return list(orders), total


def all_partners() -> list[Partner]:
    return list(db.session.scalars(select(Partner).order_by(Partner.name)))
