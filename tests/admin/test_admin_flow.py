"""End to end: a real form submission is tagged and scored, and its emails' links are tracked."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import Event, Lead, Send
from formserver.domain import scoring
from formserver.mail.compose import compose
from tests.admin.admin_helpers import text_of

ORIGIN = {"Origin": "https://www.lodestone.test"}
BROWSER = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/131.0"}


def _submit(client, company: str = "Analytical Engines"):
    return client.post(
        "/forms/playbook",
        data={
            "email": "Ada@Example.com",
            "first_name": "Ada",
            "company": company,
            "role": "founder",
            "consent": "yes",
            "utm_source": "newsletter",
            "tz": "Europe/London",
        },
        headers=ORIGIN,
    )


def test_a_submission_is_tagged_scored_and_shown(admin_client):
    assert _submit(admin_client).status_code == 303
    page = admin_client.get("/admin/leads/?q=ada")
    link = BeautifulSoup(page.text, "html.parser").select_one("tbody a")
    assert link.get_text() == "ada@example.com"
    lead_page = text_of(admin_client.get(link["href"]).text)
    assert "ebook" in lead_page and "playbook" in lead_page and "role:founder" in lead_page
    assert "score 10" in lead_page
    assert "submitted · playbook · newsletter" in lead_page
    offers = admin_client.get("/admin/offers/playbook")
    row = BeautifulSoup(offers.text, "html.parser").find(id="stage-submissions")
    assert row.td.get_text() == "1"


def test_links_in_a_rendered_drip_email_are_tracked_and_lead_where_written(app, client):
    # A lead can type anything, even a URL, into a field that a template uses as a link.
    assert _submit(client, company="https://evil.example/").status_code == 303
    with app.app_context(), db.new_session() as s:
        lead = s.scalar(select(Lead))
        send = Send(
            lead_id=lead.id,
            offer_id="playbook",
            series="nurture",
            kind="step",
            step=1,
            status="sent",
            due_at=datetime.now(UTC),
        )
        s.add(send)
        s.commit()
        rendered, _ = compose(send, lead)
    hrefs = [a["href"] for a in BeautifulSoup(rendered.html, "html.parser").find_all("a")]
    tracked = [h for h in hrefs if "/c/" in h]
    untouched = [h for h in hrefs if "/c/" not in h]
    assert len(tracked) == 5  # guide, partner tool, docs, dashboard, company
    assert all(h.startswith("https://forms.lodestone.test/") for h in untouched)
    destinations = []
    for href in tracked:
        response = client.get(urlsplit(href).path, headers=BROWSER)
        destinations.append((response.status_code, response.headers.get("Location")))
    assert sorted(destinations, key=str) == sorted(
        [
            (302, "https://www.lodestone.test/blog/guide/"),
            (302, "https://partner.example.com/tool?ref=lodestone&x=1"),
            (302, "https://docs.example.org/start"),
            (302, "https://app.example.net/u/Ada/dashboard"),
            # {{ lead.company }} as a whole link could point anywhere: never redirected.
            (403, None),
        ],
        key=str,
    )
    with db.new_session(app) as s:
        clicks = s.scalars(select(Event).where(Event.kind == "clicked")).all()
        assert len(clicks) == 4
        assert s.scalar(select(Lead)).score == 10 + 4 * 3


def test_a_new_and_a_returning_lead_score_as_a_full_recount_does(app_config, make_app):
    app = make_app(app_config | {"SCORING": {"submitted": 10, "tagged": 2, "confirmed": 5}})
    client = app.test_client()
    assert _submit(client).status_code == 303  # new: submitted + 3 tags (ebook, playbook, role)
    with app.app_context(), db.new_session() as s:
        lead = s.scalar(select(Lead))
        assert lead.score == 16 == scoring.score_lead(s, lead, datetime.now(UTC)).total
    assert _submit(client).status_code == 303  # again: one more submission, no new tag
    with app.app_context(), db.new_session() as s:
        lead = s.scalar(select(Lead))
        assert lead.score == 26 == scoring.score_lead(s, lead, datetime.now(UTC)).total
