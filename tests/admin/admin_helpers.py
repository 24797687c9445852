"""Helpers for the dashboard tests: CSRF-aware form posts, row builders, page text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bs4 import BeautifulSoup

from formserver.core.models import Download, Enrolment, Event, Send

ADMIN_EMAIL = "marketer@lodestone.test"
ADMIN_PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    field = BeautifulSoup(html, "html.parser").find("input", attrs={"name": "csrf_token"})
    assert field is not None, "the page has no CSRF token"
    return field["value"]


def login(client, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD):
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
    )


def post_form(client, page_url: str, action: str, data: dict[str, Any] | None = None):
    """Submit a dashboard form the way a browser would: token taken from the page first."""
    token = csrf_token(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **(data or {})})


T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def enrol(lead_id: int, at: datetime, next_due: datetime | None = None) -> Enrolment:
    return Enrolment(
        lead_id=lead_id,
        offer_id="playbook",
        series="nurture",
        status="active",
        enrolled_at=at,
        started_at=at,
        last_step=0,
        last_sent_at=at,
        next_due_at=next_due,
    )


def sent(lead_id: int, at: datetime, step: int = 1, **extra: Any) -> Send:
    values: dict[str, Any] = dict(
        lead_id=lead_id,
        offer_id="playbook",
        series="nurture",
        kind="step",
        step=step,
        status="sent",
        due_at=at,
        sent_at=at,
        subject=f"Step {step}",
    )
    values.update(extra)
    return Send(**values)


def event(kind: str, at: datetime, lead_id: int | None = None, offer: str = "playbook", **data):
    return Event(lead_id=lead_id, offer_id=offer, kind=kind, data=data, created_at=at)


def download(lead_id: int, at: datetime, offer: str = "playbook") -> Download:
    return Download(lead_id=lead_id, offer_id=offer, created_at=at)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", BeautifulSoup(html, "html.parser").get_text(" "))
