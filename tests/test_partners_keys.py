"""A partner key found good is taken at its word for PARTNER_KEY_MAX_AGE seconds per process;
a revocation or a disabled partner in the same process counts at once, one made elsewhere (the
command line, another web worker) within that time."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from configurator import ConfigurationError, create_app
from configurator.models import ApiKey, Partner
from configurator.models._types import utcnow
from configurator.services import partners as service
from partners_support import FORM, app_config, partner  # noqa: F401

URL = "/partners/v1/orders"


def post(client, partner, number: int) -> int:
    return client.post(URL, data={**FORM, "partner_reference": f"PO-{number}"},
                       headers=partner.headers).status_code


def revoke_elsewhere(db, key_id: int) -> None:
    """What `configurator partners revoke-key` in another process does to the row."""
    db.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
    db.session.commit()


def test_a_key_revoked_elsewhere_is_refused_once_max_age_has_passed(app, client, db, partner):
    app.config["PARTNER_KEY_MAX_AGE"] = 3600
    assert post(client, partner, 1) == 201
    revoke_elsewhere(db, partner.key_id)
    assert post(client, partner, 2) == 201  # this process looked it up less than an hour ago
    app.config["PARTNER_KEY_MAX_AGE"] = 0.05  # (a shorter max age than the time gone by)
    time.sleep(0.1)
    answer = client.post(URL, data={**FORM, "partner_reference": "PO-3"}, headers=partner.headers)
    assert answer.status_code == 403 and "revoked" in answer.get_json()["message"]


def test_with_max_age_zero_every_request_looks_the_key_up(app, client, db, partner):
    app.config["PARTNER_KEY_MAX_AGE"] = 0
    assert post(client, partner, 1) == 201
    revoke_elsewhere(db, partner.key_id)
    assert post(client, partner, 2) == 403


def test_a_revocation_in_this_process_counts_at_once(app, client, db, partner):
    app.config["PARTNER_KEY_MAX_AGE"] = 3600
    assert post(client, partner, 1) == 201
    service.revoke_key(db.session.get(ApiKey, partner.key_id))
    assert post(client, partner, 2) == 403


def test_a_partner_disabled_in_this_process_is_refused_at_once(app, client, db, partner):
    app.config["PARTNER_KEY_MAX_AGE"] = 3600
    assert post(client, partner, 1) == 201
    service.set_partner_active(db.session.get(Partner, partner.id), False)
    assert post(client, partner, 2) == 403
    service.set_partner_active(db.session.get(Partner, partner.id), True)
    assert post(client, partner, 3) == 201


def test_unknown_keys_are_looked_up_every_time(app, client, db, partner):
    app.config["PARTNER_KEY_MAX_AGE"] = 3600
    stranger = {"Authorization": "Bearer pk_live_not-a-key"}
    assert client.post(URL, data=FORM, headers=stranger).status_code == 401
    assert app.extensions.get("partner_keys", {}) == {}


def test_the_revoke_command_says_when_the_workers_refuse_the_key(app, db, partner):
    result = app.test_cli_runner().invoke(args=["partners", "revoke-key", str(partner.key_id)])
    assert result.exit_code == 0, result.output
    assert "revoked; running web workers refuse it within 1 second\n" in result.output


@pytest.mark.parametrize("value", ["soon", -1, False])
def test_a_max_age_that_is_no_number_of_seconds_is_refused(app_config, value):  # noqa: F811
    with pytest.raises(ConfigurationError, match="CONFIGURATOR_PARTNER_KEY_MAX_AGE is "):
        create_app({**app_config, "PARTNER_KEY_MAX_AGE": value})
