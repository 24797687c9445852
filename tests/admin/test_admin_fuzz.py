"""Hypothesis throws arbitrary query parameters and ids at the dashboard, logged in: no 5xx."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here is always reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# What a person or a broken link could put in a parameter: real values, edge dates, NULs,
# huge numbers and any text.
DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0000-01-01", "9999-12-31", "2026-02-30", "", "today", "1-1-1"]),
    st.text(max_size=20),
)
NUMBERS = st.one_of(
    st.integers().map(str),
    st.sampled_from(["99999999999999999999", "-1", "0", "1e9", " 3 ", "NaN", ""]),
    st.text(max_size=10),
)
TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["%", "_", "\\", "'; drop table leads; --", "\x00", "ada\x00", "ä" * 60]),
)
STATUS = st.one_of(st.sampled_from(["active", "unconfirmed", "bounced", "forgotten"]), TEXT)
FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "q": TEXT,
        "offer": st.one_of(st.sampled_from(["playbook", "checklist"]), TEXT),
        "tag": TEXT,
        "min_score": NUMBERS,
        "status": STATUS,
        "page": NUMBERS,
    },
)
RANGES = st.fixed_dictionaries({}, optional={"start": DATES, "end": DATES})
IDS = st.one_of(
    st.integers(min_value=0, max_value=10**30),
    st.sampled_from([1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64]),
)


def ok(response) -> None:
    """What the marketer sees: the dashboard page asked for, or a themed page naming the error."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.mimetype == "text/html", response.mimetype
        assert f"Error {response.status_code}" in response.text, response.text[:300]
        return
    assert response.status_code == 200, response.status_code
    if response.mimetype == "text/html":
        assert 'class="admin-nav"' in response.text  # the dashboard itself, logged in
    else:
        assert response.mimetype in ("text/csv", "application/json"), response.mimetype


@pytest.fixture
def fuzz_client(admin_client, make_lead):
    """Logged in, with two leads so searches, filters and pages have rows to find."""
    make_lead("ada@example.com", first_name="Ada", company="Acme")
    make_lead("lin@example.com", offer="checklist", status="unconfirmed")
    return admin_client


@FUZZ
@given(args=RANGES, offer=st.one_of(st.sampled_from(["playbook", "checklist"]), TEXT))
def test_funnel_pages(fuzz_client, args: dict[str, str], offer: str) -> None:
    query = urlencode(args)
    ok(fuzz_client.get(f"/admin/?{query}"))
    ok(fuzz_client.get(f"/admin/offers/{quote(offer, safe='')}?{query}"))


@FUZZ
@given(args=FILTERS)
def test_lead_search_filters_and_pages(fuzz_client, args: dict[str, str]) -> None:
    query = urlencode(args)
    ok(fuzz_client.get(f"/admin/leads/?{query}"))
    ok(fuzz_client.get(f"/admin/leads/export.csv?{query}"))  # the streamed body read whole


@FUZZ
@given(lead_id=IDS, status=STATUS)
def test_ids_in_paths(fuzz_client, lead_id: int, status: str) -> None:
    for path in ("", "/export.json", "/forget"):
        response = fuzz_client.get(f"/admin/leads/{lead_id}{path}")
        ok(response)
        assert response.status_code in (200, 404)
    ok(fuzz_client.get(f"/admin/webhooks/?{urlencode({'status': status})}"))
