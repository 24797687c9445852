"""Admin sessions end on the server, logins cannot lock the owner out, passwords must be strong."""

from __future__ import annotations

import pytest
from werkzeug.test import TestResponse

from formserver.core import db
from formserver.dashboard import auth
from tests.admin.admin_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, csrf_token, login, post_form

OWNER_IP = "203.0.113.5"


def _replay(app, cookie: str):
    """A fresh browser holding a copy of someone's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    return thief


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, admin_client, make_lead):
    lead_id = make_lead("ada@example.com", first_name="Ada")
    token = csrf_token(admin_client.get(f"/admin/leads/{lead_id}/forget").text)
    cookie = admin_client.get_cookie("session").value
    assert _replay(app, cookie).get("/admin/leads/").status_code == 200  # the copy works...
    assert post_form(admin_client, "/admin/", "/admin/logout").status_code == 303

    thief = _replay(app, cookie)  # ...until its owner logs out
    page = thief.get("/admin/leads/")
    assert page.status_code == 302 and page.location.startswith("/admin/login")
    forget = _replay(app, cookie).post(
        f"/admin/leads/{lead_id}/forget", data={"csrf_token": token, "confirm": "yes"}
    )
    assert forget.status_code == 401
    assert login(admin_client).status_code == 303
    lead_page = admin_client.get(f"/admin/leads/{lead_id}")
    assert lead_page.status_code == 200 and "ada@example.com" in lead_page.text


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(app, admin_client, runner):
    new_password = "violet harbour tandem 7"
    result = runner.invoke(args=["admin", "create-user", ADMIN_EMAIL, "--password", new_password])
    assert result.exit_code == 0, result.output
    page = admin_client.get("/admin/leads/", follow_redirects=True)
    assert "Log in to the dashboard" in page.text and "Your session has ended" in page.text
    assert login(admin_client).status_code == 401
    assert login(admin_client, password=new_password).status_code == 303
    assert admin_client.get("/admin/leads/").status_code == 200


def _shift(client, key: str, minutes: int) -> None:
    """Move one of the session's clocks back, as if that much time had passed."""
    with client.session_transaction() as session:
        session[key] -= minutes * 60


def test_a_session_idle_for_longer_than_the_setting_ends(admin_client):
    _shift(admin_client, "admin_seen_at", 29)
    assert admin_client.get("/admin/leads/").status_code == 200  # activity: the clock restarts
    _shift(admin_client, "admin_seen_at", 29)
    assert admin_client.get("/admin/leads/").status_code == 200
    _shift(admin_client, "admin_seen_at", 31)
    page = admin_client.get("/admin/leads/")
    assert page.status_code == 302 and page.location.startswith("/admin/login")
    text = admin_client.get(page.location).text
    assert "logged out after 30 minutes without activity" in text
    assert admin_client.get("/admin/leads/").status_code == 302


def test_a_session_ends_after_the_maximum_age_even_when_active(admin_client):
    _shift(admin_client, "admin_login_at", 11 * 60 + 59)
    assert admin_client.get("/admin/leads/").status_code == 200
    _shift(admin_client, "admin_login_at", 2)
    page = admin_client.get("/admin/leads/", follow_redirects=True)
    assert "more than 12 hours old" in page.text
    json = admin_client.get("/admin/leads/", headers={"Accept": "application/json"})
    assert json.status_code == 401


def test_the_idle_timeout_is_a_setting(app_config, make_app):
    idle = 5
    app = make_app({**app_config, "ADMIN_SESSION_IDLE_MINUTES": idle})
    with db.new_session(app) as s:
        auth.create_user(s, ADMIN_EMAIL, ADMIN_PASSWORD)
        s.commit()
    client = app.test_client()
    assert login(client).status_code == 303
    _shift(client, "admin_seen_at", idle + 1)
    assert client.get("/admin/leads/").status_code == 302


# Throttling: counts in Flask-Limiter's memory storage, addresses as nginx would report them.


@pytest.fixture
def limited(app_config: dict, make_app):
    app = make_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"})
    with db.new_session(app) as s:
        auth.create_user(s, ADMIN_EMAIL, ADMIN_PASSWORD)
        s.commit()
    return app


def login_from(app, ip: str, password: str, email: str = ADMIN_EMAIL) -> TestResponse:
    """A login from a browser at ``ip``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    page = client.get("/admin/login")
    data = {"email": email, "password": password, "csrf_token": csrf_token(page.text)}
    return client.post("/admin/login", data=data)


def test_an_attack_on_the_account_never_locks_its_owner_out(limited):
    assert login_from(limited, OWNER_IP, ADMIN_PASSWORD).status_code == 303  # the usual address
    # A botnet: twenty addresses, four wrong guesses each, under every per-address limit.
    for n in range(20):
        for _ in range(4):
            response = login_from(limited, f"198.51.100.{n + 1}", "guess-guess-guess")
            assert response.status_code in (401, 429)
    owner = login_from(limited, OWNER_IP, ADMIN_PASSWORD)
    assert owner.status_code == 303
    # Attackers stay throttled: a new address waits for the account, a used one for itself.
    fresh = login_from(limited, "198.51.100.200", ADMIN_PASSWORD)
    assert fresh.status_code == 429
    assert "Too many failed attempts for this account" in fresh.text
    assert 1 <= int(fresh.headers["Retry-After"]) <= limited.config["ADMIN_LOGIN_MAX_DELAY"]
    for _ in range(5):
        login_from(limited, "192.0.2.77", "guess-guess-guess", email="someone@example.com")
    blocked = login_from(limited, "192.0.2.77", ADMIN_PASSWORD)
    assert blocked.status_code == 429 and "from your address" in blocked.text


def test_an_account_slows_down_instead_of_refusing_for_long(limited):
    with limited.app_context():
        delays = [auth.throttle.account_delay(n) for n in range(4, 20)]
    assert delays[:4] == [0, 2, 4, 8]  # five free failures, then the wait doubles
    assert max(delays) == 300 == limited.config["ADMIN_LOGIN_MAX_DELAY"]
    for _ in range(5):
        assert login_from(limited, "198.51.100.9", "guess-guess-guess").status_code == 401
    # The sixth try, from anywhere but the owner's address, waits two seconds, not a minute.
    wait = login_from(limited, "198.51.100.10", ADMIN_PASSWORD)
    assert wait.status_code == 429 and wait.headers["Retry-After"] in ("1", "2")


# Passwords.


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-one", "at least 12 characters"),
        ("password1234", "too easy to guess"),
        ("qwertyuiop123", "too easy to guess"),
        ("lodestone2026!", "too easy to guess"),
        ("marketerlodestone", "too easy to guess"),
    ],
)
def test_create_user_refuses_weak_passwords_and_says_why(app, runner, password, reason):
    result = runner.invoke(args=["admin", "create-user", ADMIN_EMAIL, "--password", password])
    assert result.exit_code == 1
    # A clean exit with the reason, not a crash (the runner keeps an exception it caught).
    assert reason in result.output and isinstance(result.exception, SystemExit)
    assert login(app.test_client(), password=password).status_code == 401


def test_a_weak_new_password_keeps_the_old_one_and_its_sessions(app, admin_client, runner):
    result = runner.invoke(args=["admin", "create-user", ADMIN_EMAIL, "--password", "password1234"])
    assert result.exit_code == 1 and "too easy to guess" in result.output
    assert admin_client.get("/admin/leads/").status_code == 200
