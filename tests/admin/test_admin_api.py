"""POST /api/events: bearer tokens, strict validation, JSON answers, never a 500."""

from __future__ import annotations

import jsonschema_rs
import pytest
import yaml
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import Event, Lead
from formserver.domain import tags
from tests.conftest import ROOT

AUTH = {"Authorization": "Bearer test-token-2"}


@pytest.fixture
def lead_id(make_lead) -> int:
    return make_lead("ada@example.com")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic dGVzdC10b2tlbi0xOng="},
        {"Authorization": "test-token-1"},
        {"Authorization": "Bearer test-token-1x"},
    ],
)
def test_a_valid_bearer_token_is_required(client, lead_id, headers):
    response = client.post(
        "/api/events", json={"email": "ada@example.com", "tag": "x"}, headers=headers
    )
    assert response.status_code == 401
    assert response.get_json() == {"error": "a valid bearer token is required"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_tokens_configured_means_no_access(app, client, lead_id):
    app.config["API_TOKENS"] = []
    response = client.post(
        "/api/events", json={"email": "ada@example.com", "tag": "x"}, headers=AUTH
    )
    assert response.status_code == 401


def test_a_conversion_is_recorded_and_scored(app, client, lead_id):
    body = {"email": " Ada@Example.com ", "event": "converted", "value": 499.5, "offer": "playbook"}
    response = client.post(
        "/api/events", json=body, headers={"Authorization": "bearer test-token-1"}
    )
    assert response.status_code == 201
    data = response.get_json()
    assert data["status"] == "ok" and data["score"] == 60
    with db.new_session(app) as s:
        [conversion] = s.scalars(select(Event).where(Event.kind == "converted")).all()
        assert conversion.lead_id == lead_id and conversion.id == data["event_id"]
        assert conversion.data == {"value": 499.5} and conversion.offer_id == "playbook"
        assert s.get(Lead, lead_id).score == 60


def test_a_tag_is_added_once(app, client, lead_id):
    first = client.post(
        "/api/events", json={"email": "ada@example.com", "tag": "Customer"}, headers=AUTH
    )
    assert first.status_code == 201
    assert first.get_json() == {"status": "ok", "tag": "customer", "added": True}
    again = client.post(
        "/api/events", json={"email": "ada@example.com", "tag": "customer"}, headers=AUTH
    )
    assert again.status_code == 200 and again.get_json()["added"] is False
    with app.app_context(), db.new_session() as s:
        assert tags.lead_tags(s, lead_id) == ["customer"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "converted"}, "email"),
        ({"email": "not-an-email", "event": "converted"}, "email"),
        ({"email": 42, "event": "converted"}, "email"),
        ({"email": "ada@example.com"}, "event"),
        ({"email": "ada@example.com", "event": "converted", "tag": "x"}, "event"),
        ({"email": "ada@example.com", "event": "bought"}, "event"),
        ({"email": "ada@example.com", "event": "converted", "value": "12"}, "value"),
        ({"email": "ada@example.com", "event": "converted", "value": True}, "value"),
        ({"email": "ada@example.com", "event": "converted", "value": 1e300}, "value"),
        ({"email": "ada@example.com", "event": "converted", "offer": "Bad Offer!"}, "offer"),
        ({"email": "ada@example.com", "tag": ""}, "tag"),
        ({"email": "ada@example.com", "tag": ["a"]}, "tag"),
        ({"email": "ada@example.com", "tag": "x", "admin": True}, "body"),
        # Once let through by the hand-written checks; the spec's schema refuses them.
        ({"email": "ada@example.com", "event": "converted", "offer": "playbook\n"}, "offer"),
        ({"email": "ada@example.com", "tag": "x", "value": "12"}, "value"),
        ({"email": "ada@example.com", "event": None, "tag": "x"}, "event"),
        ({"email": "ada@example.com", "tag": "!!!"}, "tag"),
        ([1, 2, 3], "body"),
        ("just a string", "body"),
    ],
)
def test_invalid_requests_get_field_errors(client, lead_id, body, field):
    response = client.post("/api/events", json=body, headers=AUTH)
    assert response.status_code == 422
    data = response.get_json()
    assert data["error"] == "the request is not valid"
    assert field in data["errors"]


def _documented_body_schema() -> jsonschema_rs.Validator:
    """The events body's schema as an integrator reads it in docs/openapi.yaml."""
    spec = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    schema = spec["paths"]["/api/events"]["post"]["requestBody"]["content"]["application/json"]
    registry = jsonschema_rs.Registry([("urn:spec", spec)])
    return jsonschema_rs.validator_for(
        {"$ref": "urn:spec#" + schema["schema"]["$ref"][1:]}, registry=registry
    )


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ({"email": "ada@example.com", "event": "converted", "value": None, "offer": ""}, None),
        ({"email": "ada@example.com", "event": "converted", "value": -(10**12)}, None),
        ({"email": "ada@example.com", "tag": "T" * 150}, {"tag": "t" * 100}),
    ],
)
def test_what_the_server_accepts_the_document_allows(client, lead_id, body, answer):
    response = client.post("/api/events", json=body, headers=AUTH)
    assert response.status_code == 201, response.get_json()
    assert response.get_json().items() >= (answer or {}).items()
    assert _documented_body_schema().is_valid(body)


def test_a_value_past_the_documented_bound_is_refused_by_both(client, lead_id):
    body = {"email": "ada@example.com", "event": "converted", "value": 10**12 + 1}
    response = client.post("/api/events", json=body, headers=AUTH)
    assert response.status_code == 422 and "value" in response.get_json()["errors"]
    assert not _documented_body_schema().is_valid(body)


def test_unknown_email_is_404(client):
    response = client.post(
        "/api/events", json={"email": "who@example.com", "tag": "x"}, headers=AUTH
    )
    assert response.status_code == 404
    assert response.get_json() == {"error": "no lead has this email address"}


def test_bad_bodies_get_json_errors(client, lead_id):
    not_json = client.post("/api/events", data="email=ada", headers=AUTH)
    assert not_json.status_code == 415 and "error" in not_json.get_json()
    broken = client.post(
        "/api/events", data="{nope", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and "error" in broken.get_json()
    huge = client.post(
        "/api/events",
        data='{"email": "' + "a" * 70_000 + '"}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and "error" in huge.get_json()


def test_get_is_not_allowed(client):
    response = client.get("/api/events", headers=AUTH)
    assert response.status_code == 405
