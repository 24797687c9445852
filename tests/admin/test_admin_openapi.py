"""docs/openapi.yaml describes every public endpoint the app really serves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# Flask's own static files: the theme's CSS and images, not an endpoint to describe.
PRIVATE_ENDPOINTS = frozenset({"static"})
HTTP = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text())


def _shape(path: str) -> str:
    return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", path)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_it_is_openapi_3_1_with_resolvable_refs(spec):
    assert spec["openapi"].startswith("3.1")
    for ref in _refs(spec):
        node = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert node, ref


def test_every_operation_has_an_id_and_responses(spec):
    ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert method in HTTP, (path, method)
            assert op["responses"], (path, method)
            ids.append(op["operationId"])
    assert len(ids) == len(set(ids))


def _public_routes(app) -> set[tuple[str, str]]:
    """Every (path shape, method) the app serves to the public: not /admin, the dev site, files."""
    routes = set()
    for rule in app.url_map.iter_rules():
        private = rule.rule == "/admin" or rule.rule.startswith("/admin/")
        if private or rule.endpoint in PRIVATE_ENDPOINTS or rule.endpoint.startswith("site."):
            continue
        routes |= {(_shape(rule.rule), m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def _documented(spec) -> set[tuple[str, str]]:
    return {(_shape(p), m.upper()) for p, item in spec["paths"].items() for m in item}


def test_every_public_route_is_documented(app, spec):
    routes = _public_routes(app)
    assert ("/forms/{}", "POST") in routes and ("/api/events", "POST") in routes  # all loaded
    assert sorted(routes - _documented(spec)) == []


def test_every_documented_operation_is_a_route(app, spec):
    assert sorted(_documented(spec) - _public_routes(app)) == []
