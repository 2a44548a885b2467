"""`configurator partners ...`: partner accounts, keys, staff logins and webhooks from a shell."""
from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from .extensions import db
from .models import ApiKey, Partner
from .services import partners as service
from .services import webhooks


def _partner(name_or_id: str) -> Partner:
    partner = service.find_partner(name_or_id)
    if partner is None:
        raise click.BadParameter(f"no partner {name_or_id!r}; see `configurator partners list`",
                                 param_hint="PARTNER")
    return partner


def _key(key_id: int) -> ApiKey:
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise click.BadParameter(f"no API key {key_id}; see `configurator partners list`",
                                 param_hint="KEY_ID")
    return key


def _show_secret(issued: service.IssuedKey) -> None:
    click.echo(f"key {issued.key.id} for {issued.key.partner.name} (shown once, store it now):")
    click.echo(issued.secret)


@click.group("partners")
def partners() -> None:
    """Partners who submit orders by form post."""


@partners.command("create")
@click.argument("name")
@click.argument("contact_email")
@click.option("--key/--no-key", default=True, help="Also issue a first API key.")
def create(name: str, contact_email: str, key: bool) -> None:
    """Add a partner (and its first API key)."""
    try:
        partner = service.create_partner(name, contact_email)
    except service.PartnerError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"partner {partner.id}: {partner.name}")
    if key:
        _show_secret(service.issue_key(partner, "first key"))


@partners.command("list")
def list_partners() -> None:
    """Partners, their keys (prefix only) and webhooks."""
    for partner in db.session.scalars(select(Partner).order_by(Partner.id)):
        state = "" if partner.active else " (disabled)"
        click.echo(f"{partner.id}\t{partner.name}\t{partner.contact_email}{state}")
        for key in partner.api_keys:
            revoked = f" revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else ""
            click.echo(f"\tkey {key.id}\t{key.prefix}…\t{key.label}{revoked}")
        for hook in partner.webhooks:
            click.echo(f"\twebhook {hook.id}\t{hook.url}{'' if hook.active else ' (off)'}")


@partners.command("issue-key")
@click.argument("partner")
@click.option("--label", default="", help="What the key is for, e.g. 'shop server'.")
def issue_key(partner: str, label: str) -> None:
    """Issue a new API key; it is printed once."""
    _show_secret(service.issue_key(_partner(partner), label))


@partners.command("revoke-key")
@click.argument("key_id", type=int)
def revoke_key(key_id: int) -> None:
    """Revoke a key (requests with it get 403 within PARTNER_KEY_MAX_AGE seconds)."""
    key = _key(key_id)
    service.revoke_key(key)
    wait = current_app.config["PARTNER_KEY_MAX_AGE"]
    unit = "second" if wait == 1 else "seconds"
    click.echo(f"key {key.id} ({key.prefix}…) revoked; running web workers refuse it "
               + (f"within {wait:g} {unit}" if wait else "at once"))


@partners.command("rotate-key")
@click.argument("key_id", type=int)
def rotate_key(key_id: int) -> None:
    """Revoke a key and issue its replacement."""
    try:
        _show_secret(service.rotate_key(_key(key_id)))
    except service.PartnerError as exc:
        raise click.ClickException(str(exc))


@partners.command("add-staff")
@click.argument("partner")
@click.argument("email")
@click.password_option()
def add_staff(partner: str, email: str, password: str) -> None:
    """A login for the partner's staff page."""
    try:
        service.add_staff(_partner(partner), email, password)
    except service.PartnerError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"staff login {email} added")


@partners.command("add-webhook")
@click.argument("partner")
@click.argument("url")
def add_webhook(partner: str, url: str) -> None:
    """Register a webhook URL; prints its signing secret."""
    try:
        hook = webhooks.register(_partner(partner), url)
    except webhooks.WebhookError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"webhook {hook.id}; signing secret: {hook.secret}")


@partners.command("deliver-webhooks")
def deliver_webhooks() -> None:
    """Deliver every webhook event that is due (run from cron, or after a restart)."""
    delivered = webhooks.deliver_due()
    click.echo(f"{delivered} delivered")
