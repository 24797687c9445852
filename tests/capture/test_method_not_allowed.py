"""A wrong method gets a 405 that says, in ``Allow``, which methods the path does take."""

from __future__ import annotations

import pytest

HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
JSON = "application/json"


def _allowed(response) -> set[str]:
    return {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("accept", [HTML, JSON], ids=["html", "json"])
def test_post_to_a_get_only_route_is_405_with_allow(client, accept):
    response = client.post("/healthz", headers={"Accept": accept})
    assert response.status_code == 405
    assert _allowed(response) == {"GET", "HEAD", "OPTIONS"}
    expected_type = "application/json" if accept == JSON else "text/html"
    assert response.mimetype == expected_type


@pytest.mark.parametrize("accept", [HTML, JSON], ids=["html", "json"])
def test_get_to_a_form_is_405_with_allow(client, accept):
    response = client.get("/forms/guide", headers={"Accept": accept})
    assert response.status_code == 405
    assert _allowed(response) == {"POST", "OPTIONS"}
    if accept == JSON:
        assert response.json["error"]
    else:
        assert b"Method not allowed" in response.data
