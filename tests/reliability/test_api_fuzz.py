"""Schemathesis fuzzes every operation of docs/openapi.yaml against the real app and databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, HookContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from formserver.core import db
from formserver.core.models import Lead, Send
from formserver.core.tokens import make_token
from tests.capture.conftest import ORIGIN
from tests.capture.test_download import old_token
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
# pyproject.toml's addopts keep schemathesis' plugin out of every other pytest run (it costs each
# process ~0.6 s); this module, the one that needs it, loads it by its module name.
pytest_plugins = ["schemathesis.pytest.plugin"]

API_TOKEN = "fuzz-api-token"
LEAD_EMAIL = "ada@example.com"  # the lead the spec's request examples name
OFFERS = ("playbook", "guide", "plain", "double")  # the spec's example offer, and fixtures'
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"

# Loaded at import, not via schemathesis.pytest.from_fixture: 4.32.5's lazy schemas write
# Node._nodeid, which pytest 9.2 no longer has. The app is handed to each call instead.
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
# The operations the document says need a token (a non-empty `security`): only those must refuse.
SECURED = {
    (path, method.upper())
    for path, item in yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict) and operation.get("security")
}
schema.config.update(base_url="https://forms.lodestone.test")


def readable_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An error says what went wrong: JSON ``error``/``errors`` to a script, a page to a person."""
    if response.status_code < 400 or response.status_code == 404 and case.path.endswith(".gif"):
        return None
    media = response.headers.get("content-type", [""])[0].split(";")[0]
    if media == "application/json":
        answer = response.json()
        assert isinstance(answer.get("error"), str) or isinstance(answer.get("errors"), dict)
    elif media == "text/html":
        assert b"<h1" in response.content, response.text[:300]
    else:
        assert media == "text/plain" and response.content.strip(), (media, response.text[:300])
    return None


CHECKS = [
    not_a_server_error,
    readable_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.hook
def flatmap_path_parameters(context: HookContext, path_parameters: Any) -> st.SearchStrategy:
    """Mostly real offers, so generated bodies reach validation and storage, not just a 404."""
    if not isinstance(path_parameters, dict) or "offer" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([*({"offer": o} for o in OFFERS), path_parameters])


@pytest.fixture
def app_config(app_config: dict, site: Path) -> dict:
    """The capture fixture site plus the spec's example offer; the API and open tracking on."""
    guide = (site / "content" / "landing" / "guide.md").read_text()
    playbook = guide.replace("Offer: guide", "Offer: playbook").replace("Slug: ", "Slug: pb-")
    (site / "content" / "landing" / "playbook.md").write_text(playbook)
    return app_config | {
        "CONTENT_PATH": str(site / "content"),
        "ASSETS_PATH": str(site / "assets"),
        "API_TOKENS": [API_TOKEN],
        "TRACK_OPENS": True,
    }


@pytest.fixture
def api_app(app: Flask) -> Iterator[Flask]:
    """The app, with the lead the spec's examples name and one email sent to it."""
    now = datetime.now(UTC)
    with db.new_session(app) as s:
        lead = Lead(email=LEAD_EMAIL, attributes={}, status="active", created_at=now)
        s.add(lead)
        s.flush()
        s.add(Send(lead_id=lead.id, offer_id="guide", series="guide-series", kind="step", step=0))
        s.commit()
    yield app
    db.engine(app).dispose()  # PostgreSQL has a client limit


def call(case: Case, app: Flask, **headers: str) -> Response:
    """Send ``case`` from a browser on our site (or with the API token); check the answer."""
    sent = {"Origin": ORIGIN, "User-Agent": BROWSER}
    if case.operation.path.startswith("/api/"):
        sent["Authorization"] = f"Bearer {API_TOKEN}"
    response = case.call(app=app, headers=sent | headers)
    case.validate_response(response, checks=CHECKS)
    return response


@schema.parametrize()
@settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_every_operation(case: Case, api_app: Flask) -> None:
    """Generated input, sent with valid auth; the API must refuse the same call without it."""
    response = call(case, api_app)
    secured = (case.operation.path, case.operation.method.upper()) in SECURED
    if secured and case.method == case.operation.method.upper():
        for wrong in ("", "Bearer not-the-token", f"Basic {API_TOKEN}"):
            refused = call(case, api_app, Authorization=wrong)
            assert refused.status_code == 401, (wrong, response.status_code, refused.text)


def genuine_cases(app: Flask) -> list[tuple[Case, int]]:
    """Requests with real tokens and offers, which fuzzing cannot guess, and their statuses."""
    asset = {"l": 1, "o": "guide", "a": "secret-guide.pdf"}
    privacy = "https://www.lodestone.test/privacy/"
    with app.test_request_context():
        download, expired = make_token("download", asset), old_token(app, asset, 8 * 24 * 3600)
        click = make_token("click", {"s": 1, "u": privacy})
        foreign = make_token("click", {"s": 1, "u": "https://evil.example/"})
        gone = make_token("click", {"s": 999, "u": privacy})
        opened = make_token("click", {"s": 1, "o": 1})

    def get(path: str, token: str) -> Case:
        return schema[path]["GET"].Case(path_parameters={"token": token})

    def post(path: str, body: dict, **kwargs: Any) -> Case:
        return schema[path]["POST"].Case(body=body, **kwargs)

    form = {"email": "grace@example.com", "first_name": "Grace", "consent": "yes"}
    html, as_json = {"Accept": "text/html"}, {"Accept": "application/json"}
    return [
        (get("/download/{token}", download), 200),
        (get("/download/{token}", expired), 410),
        (post("/download/renew", {"token": expired, "email": LEAD_EMAIL}), 200),
        (post("/download/renew", {"token": expired, "email": "eve@example.com"}), 422),
        (get("/c/{token}", click), 302),
        (get("/c/{token}", foreign), 403),
        (get("/c/{token}", gone), 404),
        (get("/t/open/{token}.gif", opened), 200),
        *(
            (post("/forms/{offer}", form, path_parameters={"offer": offer}, **kwargs), status)
            for offer in ("guide", "double")
            for kwargs, status in (
                ({"headers": html, "media_type": "application/x-www-form-urlencoded"}, 303),
                ({"headers": as_json, "media_type": "multipart/form-data"}, 201),
                ({"headers": as_json, "media_type": "application/json"}, 201),
            )
        ),
    ]


def test_genuine_links_and_forms_answer_as_documented(api_app: Flask) -> None:
    for case, status in genuine_cases(api_app):
        response = call(case, api_app)
        assert response.status_code == status, (case.operation.label, response.text[:300])


def test_deeply_nested_json_is_a_documented_400_for_every_json_operation(api_app: Flask) -> None:
    """Generated bodies are shallow, so the nesting attack is sent by hand to each JSON body."""
    deep = {"unclosed": "[" * 5000, "valid": "[" * 5000 + "]" * 5000}
    raw = schema.raw_schema["paths"]
    json_operations = [
        (path, method, operation)
        for path, methods in raw.items()
        for method, operation in methods.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert {p for p, _, _ in json_operations} >= {
        "/forms/{offer}",
        "/t/view/{offer}",
        "/api/events",
    }
    client = api_app.test_client()
    for path, method, operation in json_operations:
        assert "400" in operation["responses"], f"{method} {path} documents no 400"
        headers = {"Origin": ORIGIN, "User-Agent": BROWSER, "Accept": "application/json"}
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {API_TOKEN}"
        url = path.replace("{offer}", "guide")
        for name, body in deep.items():
            response = client.open(
                url,
                method=method.upper(),
                data=body,
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code == 400, (method, path, name, response.status_code)
            assert "nested too deeply" in response.get_json()["error"]


def test_the_document_marks_the_events_api_as_needing_a_token() -> None:
    """The refusal check above runs only for secured operations: the events API must be one."""
    assert ("/api/events", "POST") in SECURED
