"""The ten inputs that once got a 5xx now get a clear 4xx or a clamped answer, on both databases."""

from __future__ import annotations

import pytest

from formserver.core import db
from formserver.dashboard import auth
from tests.admin.admin_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, login
from tests.capture.conftest import ORIGIN
from tests.capture.test_bad_input import stored

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"}
DEEP = {"unclosed": "[" * 5000, "valid": "[" * 5000 + "]" * 5000}
POSTS = {
    "form": ("/forms/guide", {"Origin": ORIGIN}),
    "beacon": ("/t/view/guide", {"Origin": ORIGIN}),
    "api": ("/api/events", {"Authorization": "Bearer the-token"}),
}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return app_config | {"API_TOKENS": ["the-token"]}


@pytest.fixture
def admin(app, client):
    with app.app_context(), db.new_session() as s:
        auth.create_user(s, ADMIN_EMAIL, ADMIN_PASSWORD)
        s.commit()
    assert login(client).status_code == 303
    return client


@pytest.mark.parametrize("body", DEEP.values(), ids=DEEP.keys())
@pytest.mark.parametrize("target", POSTS.values(), ids=POSTS.keys())
def test_deeply_nested_json_is_400_with_a_reason(app, client, target, body) -> None:
    path, headers = target
    response = client.post(
        path,
        data=body,
        content_type="application/json",
        headers=BROWSER | headers | {"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["error"]
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("path", ["/admin/", "/admin/offers/guide"])
def test_funnel_dates_out_of_any_range_are_clamped(admin, path: str) -> None:
    response = admin.get(f"{path}?start=0000-01-01&end=9999-12-31")
    assert response.status_code == 200
    assert "9999" not in response.text  # the range shown ends within a year of today


@pytest.mark.parametrize("lead_id", ["99999999999999999999", "9223372036854775807", "2147483648"])
def test_a_lead_id_beyond_what_a_column_holds_is_404(admin, lead_id: str) -> None:
    for path in ("", "/export.json", "/forget"):
        response = admin.get(f"/admin/leads/{lead_id}{path}")
        assert response.status_code == 404, path
        assert '<link rel="stylesheet"' in response.text
    assert admin.get("/admin/leads/2147483647").status_code == 404  # the largest id: no row


@pytest.mark.parametrize("query", ["q=%00", "q=ada%00", "offer=%00", "tag=x%00"])
def test_a_nul_in_the_lead_search_is_400(admin, query: str) -> None:
    response = admin.get(f"/admin/leads/?{query}")
    assert response.status_code == 400
    assert "NUL character" in response.text
    assert '<link rel="stylesheet"' in response.text  # a person gets the themed error page


def test_control_characters_in_a_page_view_are_stored_as_spaces(app, admin) -> None:
    beacon = admin.post(
        "/t/view/guide",
        data={"utm_source": "news\x00letter", "ref": "https://a\x00b.example/"},
        headers=BROWSER | {"Origin": ORIGIN},
    )
    assert beacon.status_code == 204
    funnel = admin.get("/admin/offers/guide")
    assert funnel.status_code == 200
    assert "news letter" in funnel.text  # the control character became a space
