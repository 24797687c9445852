"""The form server hands out its own OpenAPI description at /api/openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def test_openapi_json_is_the_yaml_document_as_json(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "Set-Cookie" not in response.headers
    served = json.loads(response.data)
    assert served == yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    # The document's own order, not sorted: "openapi" first, as a reader expects.
    assert list(served)[:3] == ["openapi", "info", "servers"]
    assert "/api/openapi.json" in served["paths"]


def test_openapi_json_takes_only_get(client):
    response = client.post("/api/openapi.json", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
