"""Dashboard fixtures: a content folder with two offers, a logged-in marketer, lead factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.security import generate_password_hash

from formserver import create_app
from formserver.core import db
from formserver.core.models import Consent, Lead, Submission
from formserver.dashboard import auth
from formserver.domain import admin_users
from tests.admin.admin_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, T0, login

LANDING = """Title: {title}
Slug: {offer}
Template: landing
Summary: A free guide.
Offer: {offer}
Asset: {offer}.pdf
Series: nurture
Fields: email, first_name, last_name?, company?, role?
Double_optin: {doi}
Consent: I agree to receive emails about this guide. [Privacy](/privacy/)
Consent_version: 2026-01
Thank_you: Check your inbox.
Lead_tags: {tags}

The guide.
"""

SERIES_TOML = """title = "Nurture"
from_name = "Lodestone"
from_email = "hello@lodestone.test"
time_zone = "Europe/London"
reenrol = false

[window]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:30"

[stop]
tags = ["customer"]
score_at_least = 100
"""

STEP_00 = """Subject: Your copy of {{ offer.title }}
Delay: 0

Hello {{ lead.first_name }}, here it is: [download]({{ download_url }}).
"""

STEP_01 = """Subject: Three ideas for {{ lead.company }}
Delay: 2 days
Preheader: A short read

Read [our guide](https://www.lodestone.test/blog/guide/) and try
[the partner tool](https://partner.example.com/tool?ref=lodestone&x=1).
See also <https://docs.example.org/start>.
Your page: [dashboard](https://app.example.net/u/{{ lead.first_name }}/dashboard).
Company site: [visit]({{ lead.company }}).

[Unsubscribe]({{ unsubscribe_url }})
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A content folder: offers "playbook" (single opt-in) and "checklist" (double opt-in)."""
    root = tmp_path / "site"
    (root / "content" / "landing").mkdir(parents=True)
    series = root / "content" / "emails" / "nurture"
    series.mkdir(parents=True)
    (root / "assets").mkdir()
    for offer, title, doi, tags in (
        ("playbook", "The lead nurturing playbook", "no", "ebook, playbook"),
        ("checklist", "Landing page checklist", "yes", "checklist"),
    ):
        (root / "assets" / f"{offer}.pdf").write_bytes(b"%PDF-1.4 test")
        text = LANDING.format(offer=offer, title=title, doi=doi, tags=tags)
        (root / "content" / "landing" / f"{offer}.md").write_text(text)
    (series / "series.toml").write_text(SERIES_TOML)
    (series / "00-asset.md").write_text(STEP_00)
    (series / "01-ideas.md").write_text(STEP_01)
    (series / "confirm.md").write_text("Subject: Confirm\n\n[Confirm]({{ confirm_url }})\n")
    return root


@pytest.fixture
def app_config(app_config: dict, content: Path) -> dict:
    app_config.update(
        CONTENT_PATH=str(content / "content"),
        ASSETS_PATH=str(content / "assets"),
        API_TOKENS=["test-token-1", "test-token-2"],
    )
    return app_config


@pytest.fixture
def make_app() -> Iterator[Callable[[dict], Flask]]:
    """Build apps whose connection pools are closed afterwards (PostgreSQL has a client limit)."""
    apps: list[Flask] = []

    def make(config: dict) -> Flask:
        apps.append(create_app(config))
        return apps[-1]

    yield make
    for app in apps:
        db.engine(app).dispose()


@pytest.fixture
def app(app_config: dict, make_app: Callable[[dict], Flask]) -> Flask:
    return make_app(app_config)


# scrypt costs ~0.13 s a hash, and most dashboard tests start with this one marketer: its one
# password is hashed once per session. It is a real hash of it, checked for real at each login,
# and create_user runs whole around it.
_hash_once = cache(generate_password_hash)


@pytest.fixture
def admin_user(app, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as patched, app.app_context(), db.new_session() as s:
        patched.setattr(admin_users, "generate_password_hash", _hash_once)
        auth.create_user(s, ADMIN_EMAIL, ADMIN_PASSWORD)
        s.commit()
    return ADMIN_EMAIL


@pytest.fixture
def admin_client(client, admin_user: str):
    """A test client logged in as a marketer."""
    assert login(client).status_code == 303
    return client


@pytest.fixture
def make_lead(app) -> Callable[..., int]:
    """Store a lead that submitted ``offer`` at ``at``; returns its id."""

    def make(
        email: str,
        offer: str = "playbook",
        at: datetime = T0,
        first_name: str = "",
        last_name: str = "",
        company: str = "",
        status: str = "active",
        utm: dict[str, str] | None = None,
        referrer: str = "",
        attributes: dict[str, str] | None = None,
        score: int = 0,
        ip: str = "192.0.2.0",
        user_agent: str = "Mozilla/5.0 (X11) Firefox/128.0",
    ) -> int:
        with db.new_session(app) as s:
            lead = Lead(
                email=email,
                first_name=first_name,
                last_name=last_name,
                company=company,
                attributes=attributes or {},
                status=status,
                score=score,
                created_at=at,
                time_zone="Europe/Paris",
            )
            s.add(lead)
            s.flush()
            fields = {"email": email, "first_name": first_name, "last_name": last_name}
            fields.update(attributes or {})
            sub = Submission(
                lead_id=lead.id,
                offer_id=offer,
                fields=fields,
                referrer=referrer,
                user_agent=user_agent,
                ip=ip,
                time_zone="Europe/Paris",
                created_at=at,
                **{f"utm_{k}": v for k, v in (utm or {}).items()},
            )
            s.add(sub)
            s.flush()
            s.add(
                Consent(
                    lead_id=lead.id,
                    submission_id=sub.id,
                    offer_id=offer,
                    wording="I agree to receive emails about this guide.",
                    version="2026-01",
                    given_at=at,
                )
            )
            s.commit()
            return lead.id

    return make


@pytest.fixture
def add_rows(app) -> Callable[..., list[int]]:
    """Insert ORM rows (events, downloads, sends...) and return their ids."""

    def add(*rows: Any) -> list[int]:
        with db.new_session(app) as s:
            s.add_all(rows)
            s.commit()
            return [row.id for row in rows]

    return add
