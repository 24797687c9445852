"""docs/openapi.yaml describes every public endpoint the app really serves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
MINE = ("tracking.", "api.")
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


def test_tracking_and_api_routes_are_all_documented(app, spec):
    documented = {(_shape(p), m.upper()) for p, item in spec["paths"].items() for m in item}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(MINE):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (_shape(rule.rule), method) in documented, (rule.rule, method)


def test_documented_paths_exist_once_their_module_is_registered(app, spec):
    routes = {(_shape(r.rule), m) for r in app.url_map.iter_rules() for m in r.methods}
    shapes = {shape for shape, _ in routes}
    for path, item in spec["paths"].items():
        if _shape(path) not in shapes:
            continue  # served by a module not registered in this build
        for method in item:
            assert (_shape(path), method.upper()) in routes, (path, method)
