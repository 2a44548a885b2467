"""Generated form bodies never make the partner API answer 5xx, and a 201 always is an order."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partners_support import FORM, app_config, partner  # noqa: F401

KNOWN_NAMES = [*FORM, "units", "label", "option.nope", "measure.nope", "text.nope",
               "unit-1.product", "unit-1.option.colour", "unit-1.option.fit",
               "unit-1.measure.chest", "unit-2.option.colour", "unit-2.measure.chest",
               "unit-2.option.fit", "unit-0.label", "unit-99.label", "unit-2.text.monogram"]
names = st.one_of(st.sampled_from(KNOWN_NAMES), st.text(max_size=30))
values = st.one_of(
    st.sampled_from(["tee", "black", "white", "slim", "regular", "100", "120.5", "2", "0",
                     "-1", "NaN", "Infinity", "1e999", "9" * 40, "AB", "", " "]),
    st.text(max_size=60),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str))
bodies = st.one_of(
    st.dictionaries(names, values, max_size=25),
    st.dictionaries(st.sampled_from(KNOWN_NAMES), values, max_size=25).map(
        lambda extra: {**FORM, **extra}))
idempotency_keys = st.one_of(st.none(), st.sampled_from(["k1", "k2"]),
                             st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                                     max_size=300))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies, key=idempotency_keys, multipart=st.booleans())
def test_generated_bodies_never_give_a_server_error(client, partner, body, key, multipart):
    headers = dict(partner.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    response = client.post("/partners/v1/orders", data=body, headers=headers,
                           content_type="multipart/form-data" if multipart else None)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json
    if response.status_code == 201:
        order = client.get(response.headers["Location"], headers=partner.headers)
        assert order.status_code == 200
