"""A lead can get a copy of their data, and be forgotten without the funnel figures moving."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import MetaData, func, select

from formserver.core import db
from formserver.core.models import Download, Lead, Send
from formserver.core.tokens import make_token
from formserver.dashboard import funnel
from formserver.domain import privacy as gdpr
from formserver.domain import tags, webhooks
from tests.admin.admin_helpers import T0, download, enrol, event, post_form, sent

PERSONAL = (
    "zebulon.q@example.com",
    "Zebulon",
    "Quartermaine",
    "Quixotic Widgets",
    "+44 7700 900123",
    "203.0.113.0",
    "Firefox/130.0",
    "utm-term-zebulon",
)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    app_config["WEBHOOKS"] = [{"url": "https://crm.example.com/hook", "secret": "s3cret"}]
    return app_config


@pytest.fixture
def zebulon(app, make_lead, add_rows) -> int:
    """A lead with a full history that touches every table."""
    lead_id = make_lead(
        "zebulon.q@example.com",
        first_name="Zebulon",
        last_name="Quartermaine",
        company="Quixotic Widgets",
        attributes={"phone": "+44 7700 900123", "role": "marketing"},
        utm={"source": "linkedin", "medium": "social", "term": "utm-term-zebulon"},
        referrer="https://www.linkedin.com/in/zebulon-quartermaine?trk=Zebulon",
        ip="203.0.113.0",
        user_agent="Mozilla/5.0 (Macintosh) Firefox/130.0",
    )
    add_rows(
        event("confirmed", T0 + timedelta(minutes=1), lead_id),
        download(lead_id, T0 + timedelta(minutes=2)),
        enrol(lead_id, T0, next_due=T0 + timedelta(days=2)),
        sent(lead_id, T0 + timedelta(days=1), subject="Ideas for Quixotic Widgets, Zebulon"),
        sent(lead_id, T0 + timedelta(days=3), step=2, status="queued", sent_at=None),
        event(
            "clicked",
            T0 + timedelta(days=1, hours=2),
            lead_id,
            url="https://app.example.net/u/zebulon.q@example.com",
            send_id=1,
        ),
        event("converted", T0 + timedelta(days=4), lead_id, value=1200),
        event("pageview", T0, None, referrer_host="www.linkedin.com", utm_source="linkedin"),
    )
    with app.app_context(), db.new_session() as s:
        lead = s.get(Lead, lead_id)
        tags.add_tag(s, lead, "role:marketing", "field", T0)
        webhooks.emit(s, "lead.created", lead, T0)
        s.commit()
    return lead_id


def _all_text(app) -> str:
    """Every value of every column of every table in the database, as one string."""
    engine = db.engine(app)
    metadata = MetaData()
    metadata.reflect(engine)
    chunks = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                chunks.extend(json.dumps(v, default=str) for v in row)
    return "\n".join(chunks)


def _funnels(app) -> list:
    rng = funnel.DateRange(date(2026, 3, 1), date(2026, 3, 31))
    with app.app_context(), db.new_session() as s:
        return [
            [(st.key, st.count) for st in funnel.funnel(s, "playbook", rng)],
            funnel.breakdown(s, "playbook", rng, "utm_source"),
            funnel.breakdown(s, "playbook", rng, "referrer"),
            funnel.submissions_per_day(s, "playbook", rng),
        ]


def test_forget_from_the_lead_page_leaves_no_personal_data(app, admin_client, zebulon, make_lead):
    other = make_lead("other@example.com", first_name="Olive")
    text = _all_text(app)
    assert all(value in text for value in PERSONAL)  # the scan would see them
    before = _funnels(app)
    page = admin_client.get(f"/admin/leads/{zebulon}/forget")
    assert page.status_code == 200 and "cannot be undone" in page.text
    response = post_form(
        admin_client,
        f"/admin/leads/{zebulon}/forget",
        f"/admin/leads/{zebulon}/forget",
        {"confirm": "yes"},
    )
    assert response.status_code == 303
    assert "forgotten" in admin_client.get(response.location).text
    text = _all_text(app)
    leaked = [value for value in PERSONAL if value.lower() in text.lower()]
    assert leaked == []
    assert _funnels(app) == before
    assert "other@example.com" in text and "Olive" in text  # nobody else touched
    assert admin_client.get(f"/admin/leads/{zebulon}").status_code == 404
    assert admin_client.get(f"/admin/leads/{other}").status_code == 200
    with db.new_session(app) as s:
        statuses = {send.status for send in s.scalars(select(Send))}
        assert statuses == {"sent", "cancelled"}
        assert s.get(Lead, zebulon).status == "forgotten"


def test_a_forgotten_leads_download_link_stops_working(app, client, runner, zebulon):
    with app.test_request_context():
        token = make_token("download", {"l": zebulon, "o": "playbook", "a": "playbook.pdf"})
    assert client.get(f"/download/{token}").status_code == 200
    assert runner.invoke(args=["admin", "forget", "zebulon.q@example.com", "--yes"]).exit_code == 0
    with db.new_session(app) as s:
        downloads = s.scalar(select(func.count()).select_from(Download))
    assert client.get(f"/download/{token}").status_code == 403
    with db.new_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Download)) == downloads  # none recorded


def test_forget_needs_the_confirmation_box(app, admin_client, zebulon):
    url = f"/admin/leads/{zebulon}/forget"
    response = post_form(admin_client, url, url, {})
    assert response.status_code == 303 and response.location.endswith("/forget")
    assert "zebulon.q@example.com" in _all_text(app)


def test_forget_from_the_command_line(app, runner, zebulon):
    before = _funnels(app)
    result = runner.invoke(args=["admin", "forget", "Zebulon.Q@example.com"], input="y\n")
    assert result.exit_code == 0, result.output
    assert [v for v in PERSONAL if v.lower() in _all_text(app).lower()] == []
    assert _funnels(app) == before
    again = runner.invoke(args=["admin", "forget", "zebulon.q@example.com", "--yes"])
    assert again.exit_code != 0 and "no lead" in again.output


def test_forget_can_be_declined_on_the_command_line(app, runner, zebulon):
    result = runner.invoke(args=["admin", "forget", "zebulon.q@example.com"], input="n\n")
    assert result.exit_code != 0
    assert "zebulon.q@example.com" in _all_text(app)


def test_export_holds_everything_we_store(admin_client, runner, zebulon):
    response = admin_client.get(f"/admin/leads/{zebulon}/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_json()
    assert data["lead"]["email"] == "zebulon.q@example.com"
    assert data["lead"]["attributes"]["phone"] == "+44 7700 900123"
    assert data["tags"] == ["role:marketing"]
    assert data["submissions"][0]["fields"]["first_name"] == "Zebulon"
    assert data["submissions"][0]["ip"] == "203.0.113.0"
    assert data["consents"][0]["wording"].startswith("I agree")
    assert {e["kind"] for e in data["events"]} >= {"confirmed", "clicked", "converted", "tagged"}
    assert [e["subject"] for e in data["emails"]][0] == "Ideas for Quixotic Widgets, Zebulon"
    assert data["webhook_deliveries"][0]["event"] == "lead.created"
    cli = runner.invoke(args=["admin", "export-lead", "zebulon.q@example.com"])
    assert cli.exit_code == 0
    assert json.loads(cli.output)["lead"]["id"] == zebulon


def test_forgotten_lead_keeps_anonymous_facts(app, zebulon):
    with app.app_context(), db.new_session() as s:
        lead = s.get(Lead, zebulon)
        gdpr.forget_lead(s, lead, T0)
        s.commit()
        data = gdpr.export_lead(s, lead, T0)
    assert data["submissions"][0]["referrer"] == "www.linkedin.com"
    assert data["submissions"][0]["utm_source"] == "linkedin"
    assert data["submissions"][0]["fields"] == {}
    assert data["consents"][0]["version"] == "2026-01"
    converted = next(e for e in data["events"] if e["kind"] == "converted")
    assert converted["data"] == {"value": 1200}
    assert data["enrolments"][0]["status"] == "stopped"
    assert data["tags"] == [] and data["webhook_deliveries"] == []
