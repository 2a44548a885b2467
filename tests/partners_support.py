"""Shared fixtures for the partner tests: a tiny spec, a partner with a key, a live server."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from configurator.extensions import db
from configurator.services import partners

SPECS = Path(__file__).parent / "fixtures" / "partner_specs"

FORM = {
    "product": "tee", "option.colour": "black", "option.fit": "slim", "measure.chest": "100.5",
    "text.monogram": "AB", "customer_name": "Ana Sousa", "customer_email": "ana@example.com",
    "ship_to.line1": "Rua das Flores 12", "ship_to.postcode": "4050-262",
    "ship_to.city": "Porto", "ship_to.country": "Portugal", "partner_reference": "PO-1001",
}


@dataclass
class PartnerKey:
    id: int
    name: str
    secret: str
    key_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@pytest.fixture
def app_config(app_config):
    app_config.update(SPECS_DIR=str(SPECS), WEBHOOK_DELIVERY="manual",
                      PARTNER_RATE_LIMIT="100000 per minute")
    return app_config


def make_partner(app, name: str) -> PartnerKey:
    with app.app_context():
        partner = partners.create_partner(name, f"ops@{name.lower().replace(' ', '-')}.example")
        issued = partners.issue_key(partner, "test")
        result = PartnerKey(partner.id, partner.name, issued.secret, issued.key.id)
        db.session.remove()
    return result


@pytest.fixture
def partner(app) -> PartnerKey:
    return make_partner(app, "Acme Tailors")


@pytest.fixture
def other_partner(app) -> PartnerKey:
    return make_partner(app, "Bespoke Bros")
