"""Only logged-in marketers reach /admin; every change needs a CSRF token; logins are throttled."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import AdminUser
from formserver.dashboard import auth
from tests.admin.admin_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, csrf_token, login, post_form


def _example_url(rule) -> str:
    """A concrete URL for a rule: int arguments become 1, others "x"."""
    url = rule.rule
    for name, converter in rule._converters.items():
        value = "1" if type(converter).__name__ == "IntegerConverter" else "x"
        url = re.sub(rf"<[^>]*\b{name}>", value, url)
    return url


def _admin_rules(app):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert len(rules) >= 10
    return rules


@pytest.fixture
def app_config(app_config: dict, tmp_path) -> dict:
    app_config["OUTBOX_PATH"] = str(tmp_path / "outbox")  # its pages must be guarded too
    return app_config


def test_every_admin_url_refuses_anonymous_visitors(app, client):
    rules = _admin_rules(app)
    assert any(r.endpoint.startswith("outbox.") for r in rules)
    for rule in rules:
        if rule.endpoint == "admin.auth.login":
            continue
        url = _example_url(rule)
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            response = client.open(url, method=method)
            if method == "GET":
                assert response.status_code == 302, url
                assert response.headers["Location"].startswith("/admin/login?next="), url
            else:
                assert response.status_code == 401, (method, url)
            json = client.open(url, method=method, headers={"Accept": "application/json"})
            assert json.status_code == 401, (method, url)
            assert json.get_json() == {"error": "Log in to the dashboard first."}


def test_unknown_admin_paths_do_not_reveal_anything(client):
    assert client.get("/admin/no-such-page").status_code == 302
    assert client.post("/admin/leads/1/forget").status_code == 401


def test_login_shows_the_dashboard_and_logout_ends_it(client, admin_user):
    assert login(client).status_code == 303
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Offers" in page.text and ADMIN_EMAIL in page.text
    assert page.headers["Cache-Control"] == "no-store"
    response = post_form(client, "/admin/", "/admin/logout")
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, admin_user):
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_wrong_password_is_refused_with_a_message(client, admin_user):
    response = login(client, password="wrong password")
    assert response.status_code == 401
    assert "do not match" in response.text
    assert client.get("/admin/leads/").status_code == 302


def test_login_returns_only_to_dashboard_pages(client, admin_user):
    page = client.get("/admin/login?next=/admin/leads/")
    data = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": csrf_token(page.text)}
    assert client.post("/admin/login?next=/admin/leads/", data=data).location == "/admin/leads/"
    client.post("/admin/logout", data={"csrf_token": csrf_token(client.get("/admin/").text)})
    page = client.get("/admin/login")
    data["csrf_token"] = csrf_token(page.text)
    response = client.post("/admin/login?next=https://evil.example/", data=data)
    assert response.location == "/admin/"


def test_posts_without_a_csrf_token_fail(admin_client, make_lead):
    lead_id = make_lead("ada@example.com")
    response = admin_client.post(f"/admin/leads/{lead_id}/tags", data={"tag": "vip"})
    assert response.status_code == 400
    assert "CSRF" in response.text
    response = admin_client.post(
        f"/admin/leads/{lead_id}/tags", data={"tag": "vip", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    ok = post_form(
        admin_client, f"/admin/leads/{lead_id}", f"/admin/leads/{lead_id}/tags", {"tag": "vip"}
    )
    assert ok.status_code == 303
    assert "vip" in admin_client.get(f"/admin/leads/{lead_id}").text


def test_login_form_needs_its_csrf_token(client, admin_user):
    response = client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_public_endpoints_need_no_csrf_token(client):
    response = client.post("/t/view/playbook", data={"ref": ""}, headers={"User-Agent": "Firefox"})
    assert response.status_code == 204
    assert client.post("/api/events", json={}).status_code == 401  # auth, not CSRF


def test_create_user_with_a_password_option(app, runner):
    result = runner.invoke(
        args=["admin", "create-user", "Sam@Example.com", "--password", "quiet otter ledger 42"]
    )
    assert result.exit_code == 0, result.output
    with db.new_session(app) as s:
        user = s.scalar(select(AdminUser).where(AdminUser.email == "sam@example.com"))
    assert user is not None and "quiet otter ledger 42" not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    client = app.test_client()
    assert login(client, "sam@example.com", "quiet otter ledger 42").status_code == 303


def test_create_user_prompts_for_a_hidden_password(app, runner):
    typed = "maple kettle drizzle\n"
    result = runner.invoke(args=["admin", "create-user", "kim@example.com"], input=typed * 2)
    assert result.exit_code == 0, result.output
    assert "maple kettle drizzle" not in result.output  # hidden input is not echoed
    assert login(app.test_client(), "kim@example.com", "maple kettle drizzle").status_code == 303


def test_create_user_refuses_a_short_password(runner):
    result = runner.invoke(args=["admin", "create-user", "kim@example.com", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output


def test_development_mode_creates_the_dev_admin(app_config, make_app, tmp_path):
    app = make_app({**app_config, "DEV": True, "SITE_OUTPUT_PATH": str(tmp_path / "out")})
    client = app.test_client()
    response = login(client, app.config["DEV_ADMIN_EMAIL"], app.config["DEV_ADMIN_PASSWORD"])
    assert response.status_code == 303
    make_app({**app_config, "DEV": True, "SITE_OUTPUT_PATH": str(tmp_path / "out")})  # idempotent


@pytest.fixture
def limited_config(app_config: dict) -> dict:
    return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def test_failed_logins_are_rate_limited(limited_config, make_app):
    app = make_app(limited_config)
    with app.app_context(), db.new_session() as s:
        auth.create_user(s, ADMIN_EMAIL, ADMIN_PASSWORD)
        s.commit()
    client = app.test_client()
    for _ in range(5):
        assert login(client, password="nope-nope").status_code == 401
    blocked = login(client)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text
    # Another address from another IP is not affected.
    other = app.test_client()
    page = other.get("/admin/login", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    response = other.post(
        "/admin/login",
        data={
            "email": "x@example.com",
            "password": "whatever1",
            "csrf_token": csrf_token(page.text),
        },
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 401
