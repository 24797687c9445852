"""Every bad input gets its documented answer, never a 500, and stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Lead, Submission
from tests.capture.conftest import ORIGIN, post_form


def stored(app) -> tuple[int, int]:
    with app.app_context():
        s = db.session()
        return (
            s.scalar(select(func.count()).select_from(Lead)),
            s.scalar(select(func.count()).select_from(Submission)),
        )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null", "Referer": "https://evil.example/x"},
        {"Referer": "http://www.lodestone.test/"},
        {"Origin": "https://www.lodestone.test.evil.io"},
    ],
)
def test_foreign_origin_is_refused(app, client, headers) -> None:
    response = client.post("/forms/guide", data={"email": "a@example.com"}, headers=headers)
    assert response.status_code == 403
    assert "only be sent from our website" in response.text
    assert stored(app) == (0, 0)


def test_referer_is_the_fallback_and_no_header_passes(app, client) -> None:
    ok = client.post(
        "/forms/guide",
        data={"email": "r@example.com", "first_name": "R", "consent": "yes"},
        headers={"Referer": f"{ORIGIN}/secret-guide/"},
    )
    assert ok.status_code == 303
    bare = client.post(
        "/forms/guide", data={"email": "n@example.com", "first_name": "N", "consent": "yes"}
    )
    assert bare.status_code == 303


def test_honeypot_gets_a_fake_success_and_stores_nothing(app, client) -> None:
    page = post_form(client, website="http://spam.example")
    assert page.status_code == 303
    api = post_form(client, json=True, website="buy now")
    assert api.status_code == 201 and "download_url" not in api.get_json()
    assert stored(app) == (0, 0)


def test_rate_limit_answers_429(app_config) -> None:
    app = create_app(app_config | {"RATELIMIT_ENABLED": True, "FORM_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    codes = [post_form(client, email=f"r{i}@example.com").status_code for i in range(3)]
    assert codes == [303, 303, 429]
    limited = post_form(client, json=True)
    assert limited.status_code == 429 and "error" in limited.get_json()


def test_oversized_body_is_413(app, client) -> None:
    response = post_form(client, company="x" * (70 * 1024))
    assert response.status_code == 413
    assert stored(app) == (0, 0)


def test_unknown_offer_404_and_wrong_method_405(client) -> None:
    assert post_form(client, offer="nope").status_code == 404
    assert client.get("/forms/guide").status_code == 405
    assert client.put("/forms/guide").status_code == 405


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"'])
def test_malformed_json_is_400(app, client, body) -> None:
    response = client.post(
        "/forms/guide", data=body, content_type="application/json", headers={"Origin": ORIGIN}
    )
    assert response.status_code == 400
    assert "error" in response.get_json()
    assert stored(app) == (0, 0)


def test_non_string_json_values_are_422(client) -> None:
    response = client.post(
        "/forms/guide", json={"email": ["a@example.com"]}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "field,value",
    [
        ("first_name", "Ada\r\nBcc: x@example.com"),
        ("email", "a@example.com\nBcc: b@x.com"),
        ("utm_source", "x\ry"),
        ("tz", "Europe/Paris\n"),
        ("first_name", "A" * 101),
        ("company", "C" * 201),
        ("utm_campaign", "u" * 201),
        ("role", "astronaut"),
    ],
)
def test_line_breaks_and_overlong_values_are_422(app, client, field, value) -> None:
    response = post_form(client, json=True, **{field: value})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com", ""])
def test_invalid_email_re_renders_the_form_with_values_kept(app, client, email) -> None:
    response = post_form(client, email=email, company="Kept Co")
    assert response.status_code == 422
    assert 'id="e-email"' in response.text and 'aria-invalid="true"' in response.text
    assert 'value="Kept Co"' in response.text and 'value="Ada"' in response.text
    assert '<link rel="stylesheet"' in response.text
    assert stored(app) == (0, 0)


def test_the_corrected_form_on_the_form_servers_own_page_is_accepted(app, client) -> None:
    """Without JavaScript a form with errors comes back from the form server; its resubmit posts
    from that origin (it was refused with 403 when only the site's origin was allowed)."""
    first = post_form(client, email="not-an-address")
    assert first.status_code == 422
    again = client.post(
        "/forms/guide",
        data={"email": "fixed@example.com", "first_name": "Ada", "consent": "yes"},
        headers={"Origin": "https://forms.lodestone.test"},
    )
    assert again.status_code == 303
    assert stored(app) == (1, 1)


def test_missing_consent_is_explained(client) -> None:
    response = post_form(client, json=True, consent=None)
    assert response.status_code == 422
    assert response.get_json()["errors"]["consent"] == ["Please tick the box to continue."]


def test_html_in_values_is_escaped_on_the_error_page(client) -> None:
    response = post_form(client, email="bad", company="<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_redirect_target_never_comes_from_the_request(client) -> None:
    response = post_form(client, _next="https://evil.example", next="https://evil.example")
    assert response.headers["Location"].startswith("https://forms.lodestone.test/thanks/")


def test_any_value_over_the_global_limit_is_422_even_in_unknown_fields(app, client) -> None:
    response = post_form(client, json=True, notes="n" * 2001)
    assert response.status_code == 422 and "longer than 2000" in response.get_json()["error"]
    assert stored(app) == (0, 0)
