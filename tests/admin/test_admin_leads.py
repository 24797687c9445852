"""The leads list finds, filters and exports leads; a lead's page tells their whole story."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup

from formserver.core import db
from formserver.core.models import Lead
from formserver.domain import tags
from tests.admin.admin_helpers import T0, download, enrol, event, post_form, sent, text_of


@pytest.fixture
def leads(app, make_lead):
    """Five leads across two offers, tags, statuses and scores."""
    ids = {
        "ada": make_lead("ada@example.com", first_name="Ada", last_name="Lovelace", score=40),
        "alan": make_lead("alan@turing.org", first_name="Alan", last_name="Turing", score=5),
        "grace": make_lead(
            "grace@navy.mil",
            "checklist",
            first_name="Grace",
            last_name="Hopper",
            status="unconfirmed",
        ),
        "evil": make_lead(
            "=cmd@evil.test", first_name='=HYPERLINK("http://x")', last_name="@SUM(1)", score=12
        ),
        "gone": make_lead("gone@example.com", status="unsubscribed", score=1),
    }
    with db.new_session(app) as s, app.app_context():
        for name in ("ada", "grace"):
            tags.add_tag(s, s.get(Lead, ids[name]), "customer", "admin", T0)
        s.commit()
    return ids


def _emails(html: str) -> set[str]:
    table = BeautifulSoup(html, "html.parser").find("tbody")
    return {a.get_text() for a in table.find_all("a")} if table else set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            {
                "ada@example.com",
                "alan@turing.org",
                "grace@navy.mil",
                "=cmd@evil.test",
                "gone@example.com",
            },
        ),
        ("q=ada", {"ada@example.com"}),
        ("q=TURING", {"alan@turing.org"}),
        ("q=grace+hopper", {"grace@navy.mil"}),
        ("q=%25", set()),  # a LIKE wildcard is searched literally
        ("offer=checklist", {"grace@navy.mil"}),
        ("tag=customer", {"ada@example.com", "grace@navy.mil"}),
        ("min_score=10", {"ada@example.com", "=cmd@evil.test"}),
        ("status=unsubscribed", {"gone@example.com"}),
        ("status=unconfirmed&tag=customer", {"grace@navy.mil"}),
        (
            "min_score=abc&status=bogus&page=-3",
            {
                "ada@example.com",
                "alan@turing.org",
                "grace@navy.mil",
                "=cmd@evil.test",
                "gone@example.com",
            },
        ),
    ],
)
def test_search_and_filters(admin_client, leads, query, expected):
    response = admin_client.get(f"/admin/leads/?{query}")
    assert response.status_code == 200
    assert _emails(response.text) == expected
    assert f"{len(expected)} lead" in text_of(response.text)


def test_list_is_paginated(app, admin_client, make_lead):
    app.config["ADMIN_PAGE_SIZE"] = 2
    for i in range(5):
        make_lead(f"p{i}@example.com", at=T0 + timedelta(minutes=i))
    first = admin_client.get("/admin/leads/")
    assert _emails(first.text) == {"p4@example.com", "p3@example.com"}
    assert "Page 1 of 3" in text_of(first.text)
    last = admin_client.get("/admin/leads/?page=3")
    assert _emails(last.text) == {"p0@example.com"}
    assert _emails(admin_client.get("/admin/leads/?page=99").text) == set()


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_matches_the_filter(admin_client, leads):
    response = admin_client.get("/admin/leads/export.csv?tag=customer")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert {r["email"] for r in rows} == {"ada@example.com", "grace@navy.mil"}
    ada = next(r for r in rows if r["email"] == "ada@example.com")
    assert ada["first_name"] == "Ada" and ada["tags"] == "customer" and ada["offers"] == "playbook"
    all_rows = _csv(admin_client.get("/admin/leads/export.csv"))
    assert len(all_rows) == 5
    page = admin_client.get("/admin/leads/?q=turing")
    link = BeautifulSoup(page.text, "html.parser").find("a", string=lambda s: s and "CSV" in s)
    assert [r["email"] for r in _csv(admin_client.get(link["href"]))] == ["alan@turing.org"]


def test_csv_export_defuses_spreadsheet_formulas(admin_client, leads):
    rows = _csv(admin_client.get("/admin/leads/export.csv?min_score=12&max=1"))
    evil = next(r for r in rows if r["email"].endswith("evil.test"))
    assert evil["email"] == "'=cmd@evil.test"
    assert evil["first_name"] == '\'=HYPERLINK("http://x")'
    assert evil["last_name"] == "'@SUM(1)"
    assert evil["score"] == "12"


def test_csv_export_streams_many_leads(app, admin_client):
    with db.new_session(app) as s:
        s.add_all(Lead(email=f"bulk{i}@example.com", created_at=T0) for i in range(1205))
        s.commit()
    response = admin_client.get("/admin/leads/export.csv")
    assert response.is_streamed
    assert len(_csv(response)) == 1205


def test_lead_page_tells_the_whole_story(app, admin_client, make_lead, add_rows):
    lead_id = make_lead(
        "ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
        attributes={"role": "founder"},
        utm={"source": "newsletter", "medium": "email", "campaign": "spring"},
    )
    due = T0 + timedelta(days=2)
    add_rows(
        event("confirmed", T0 + timedelta(minutes=5), lead_id),
        download(lead_id, T0 + timedelta(minutes=6)),
        enrol(lead_id, T0, next_due=due),
        sent(lead_id, T0 + timedelta(days=1), step=1, subject="Three ideas for Analytical Engines"),
        event(
            "clicked", T0 + timedelta(days=1, hours=1), lead_id, url="https://partner.example.com/"
        ),
        event("unsubscribed", T0 + timedelta(days=3), lead_id, offer=""),
    )
    with app.app_context():
        app.config["SCORING"] = {"submitted": 10, "downloaded": 5, "clicked": 3, "confirmed": 5}
    page = admin_client.get(f"/admin/leads/{lead_id}")
    assert page.status_code == 200
    text = text_of(page.text)
    for expected in (
        "Ada Lovelace",
        "Analytical Engines",
        "founder",
        "I agree to receive emails about this guide.",
        "2026-01",
        "nurture",
        due.strftime("%Y-%m-%d %H:%M"),
        "Three ideas for Analytical Engines",
        "https://partner.example.com/",
        "newsletter",
    ):
        assert expected in text, expected
    soup = BeautifulSoup(page.text, "html.parser")
    timeline = [li["class"][0] for li in soup.select("ol.timeline li")]
    assert timeline == [
        "event-unsubscribed",
        "event-clicked",
        "event-sent",
        "event-downloaded",
        "event-confirmed",
        "event-submitted",
    ]
    assert soup.find(id="score").get_text() == "23"  # 10 + 5 + 5 + 3
    rules = {
        row.th.get_text(): row.find_all("td")[-1].get_text()
        for row in soup.find("h2", string="Score").find_next("table").tbody.find_all("tr")
    }
    assert rules == {"submitted": "10.0", "confirmed": "5.0", "downloaded": "5.0", "clicked": "3.0"}


def _tags(html: str) -> list[str]:
    return [code.get_text() for code in BeautifulSoup(html, "html.parser").select("ul.tags code")]


def test_tags_can_be_added_and_removed_from_the_page(admin_client, make_lead):
    lead_id = make_lead("ada@example.com")
    url = f"/admin/leads/{lead_id}"
    post_form(admin_client, url, f"{url}/tags", {"tag": "  Big Account "})
    page = admin_client.get(url).text
    assert _tags(page) == ["big-account"]
    assert "tagged · big-account" in text_of(page)  # on the timeline
    post_form(admin_client, url, f"{url}/tags/remove", {"tag": "big-account"})
    assert _tags(admin_client.get(url).text) == []
    response = post_form(admin_client, url, f"{url}/tags", {"tag": "!!!"})
    assert response.status_code == 303
    assert "at least one letter" in admin_client.get(url).text


def test_unknown_lead_is_404(admin_client):
    assert admin_client.get("/admin/leads/999").status_code == 404
