"""Hypothesis throws arbitrary values and bodies at the form endpoint: no 5xx, no partial rows."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from formserver.core import db
from formserver.core.models import Consent, Lead, Submission
from tests.capture.conftest import ORIGIN
from tests.conftest import ROOT

SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
# Every field docs/openapi.yaml documents for a lead form, and one it does not.
NAMES = st.sampled_from([*SPEC["components"]["schemas"]["LeadForm"]["properties"], "x"])
VALUES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["a@example.com", "yes", "founder", "51-200", "Europe/Paris"]),
)
JSON_VALUES = st.one_of(
    VALUES, st.integers(), st.booleans(), st.none(), st.lists(st.text(max_size=5), max_size=3)
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def consistent(app) -> None:
    with app.app_context():
        s = db.session()
        leads = s.scalar(select(func.count()).select_from(Lead))
        subs = s.scalar(select(func.count()).select_from(Submission))
        consents = s.scalar(select(func.count()).select_from(Consent))
        assert consents == subs  # the fixture offer asks consent on every submission
        assert leads <= subs


@FUZZ
@given(fields=st.dictionaries(NAMES, VALUES, max_size=9))
def test_form_bodies(app, client, fields) -> None:
    response = client.post("/forms/guide", data=fields, headers={"Origin": ORIGIN})
    assert response.status_code in (303, 413, 422)
    if response.status_code == 303:  # on to the thank-you page (a bot: "check your inbox")
        assert "/thanks/" in response.location or "/check-your-inbox" in response.location
    elif "Please correct the highlighted fields." not in response.text:  # the form again
        assert f"Error {response.status_code}" in response.text  # or the page naming the limit
    consistent(app)


@FUZZ
@given(
    body=st.one_of(
        st.dictionaries(NAMES, JSON_VALUES, max_size=9).map(json.dumps), st.text(max_size=200)
    )
)
def test_json_bodies(app, client, body) -> None:
    response = client.post(
        "/forms/guide",
        data=body,
        content_type="application/json",
        headers={"Origin": ORIGIN, "Accept": "application/json"},
    )
    assert response.status_code in (201, 400, 413, 422)
    answer = response.get_json()  # the landing page's script reads one of these shapes
    if response.status_code == 201:
        assert answer["status"] in ("ok", "confirm") and answer["message"]
    else:
        assert isinstance(answer.get("error"), str) or isinstance(answer.get("errors"), dict)
    consistent(app)
