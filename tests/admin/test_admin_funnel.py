"""Funnel figures, the daily chart and the source breakdowns match counts made by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from bs4 import BeautifulSoup

from formserver.core import db
from formserver.dashboard import chart, funnel
from tests.admin.admin_helpers import download, event, sent

MARCH = "start=2026-03-01&end=2026-03-31"


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def march(make_lead, add_rows) -> None:
    """Hand-counted fixture data for offer "playbook" in March 2026 (and noise around it)."""
    google = "https://www.google.com/search?q=lead+nurturing"
    a = make_lead("a@example.com", at=at(2, 9), utm={"source": "newsletter"}, referrer=google)
    b = make_lead("b@example.com", at=at(2, 15), utm={"source": "newsletter"})
    c = make_lead(
        "c@example.com",
        at=at(3),
        utm={"source": "linkedin"},
        referrer="https://news.ycombinator.com/item?id=1",
    )
    d = make_lead("d@example.com", at=at(10))
    make_lead("early@example.com", at=at(27, month=2))  # before the range
    make_lead("late@example.com", at=datetime(2026, 4, 1, 0, 0, tzinfo=UTC))  # just after
    other = make_lead("other@example.com", "checklist", at=at(5))
    views = (
        [event("pageview", at(2), utm_source="newsletter", referrer_host="") for _ in range(4)]
        + [event("pageview", at(3), utm_source="linkedin", referrer_host="") for _ in range(3)]
        + [
            event("pageview", at(4), utm_source="", referrer_host="www.google.com")
            for _ in range(3)
        ]
        + [event("pageview", at(28, month=2)), event("pageview", at(1, 0, month=4))]
        + [event("pageview", at(5), offer="checklist") for _ in range(3)]
    )
    add_rows(
        *views,
        event("confirmed", at(2, 10), a),
        event("confirmed", at(2, 16), b),
        event("confirmed", at(3, 13), c, offer=""),  # lead-level: counts for c's offer
        event("confirmed", at(5, 13), other, offer="checklist"),
        download(a, at(2, 10)),
        download(b, at(2, 16)),
        download(c, at(3, 14)),
        download(d, at(1, 0, month=4)),
        *(sent(lead, at(6)) for lead in (a, b, c, d)),
        sent(a, at(9), step=2),
        sent(b, at(9), step=2, status="failed", sent_at=None),
        sent(c, at(9), step=2, status="queued", sent_at=None),
        sent(other, at(9), offer_id="checklist"),
        event("clicked", at(6, 13), a),
        event("clicked", at(9, 13), a),
        event("unsubscribed", at(7), b, offer=""),
        event("unsubscribed", at(8), d),
        event("unsubscribed", at(8), other, offer=""),  # not a playbook lead
        event("bounced", at(9), c, offer=""),
    )


EXPECTED = {
    "views": 10,
    "submissions": 4,
    "confirmations": 3,
    "downloads": 3,
    "sent": 5,
    "clicks": 2,
    "unsubscribes": 2,
    "bounces": 1,
}


def test_funnel_counts_match_hand_counts(app, march):
    rng = funnel.DateRange(date(2026, 3, 1), date(2026, 3, 31))
    with app.app_context(), db.new_session() as s:
        stages = {st.key: st for st in funnel.funnel(s, "playbook", rng)}
    assert {k: st.count for k, st in stages.items()} == EXPECTED
    assert stages["submissions"].rate == pytest.approx(0.4)
    assert stages["downloads"].rate == pytest.approx(0.75)
    assert stages["clicks"].rate == pytest.approx(0.4)
    assert stages["views"].rate is None


def test_offer_page_shows_the_funnel(admin_client, march):
    page = admin_client.get(f"/admin/offers/playbook?{MARCH}")
    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    counts = {
        row["id"].removeprefix("stage-"): int(row.find_all("td")[0].get_text())
        for row in soup.select("table.funnel tbody tr")
    }
    assert counts == EXPECTED
    rates = {
        row["id"]: row.find_all("td")[1].get_text() for row in soup.select("table.funnel tr[id]")
    }
    assert rates["stage-submissions"] == "40.0%"
    assert rates["stage-unsubscribes"] == "40.0%"


def test_submissions_per_day_and_the_chart(app, admin_client, march):
    rng = funnel.DateRange(date(2026, 3, 1), date(2026, 3, 31))
    with app.app_context(), db.new_session() as s:
        per_day = funnel.submissions_per_day(s, "playbook", rng)
    assert len(per_day) == 31
    assert {d.day: n for d, n in per_day if n} == {2: 2, 3: 1, 10: 1}
    svg = BeautifulSoup(
        admin_client.get(f"/admin/offers/playbook?{MARCH}").text, "html.parser"
    ).find("svg")
    assert svg["role"] == "img"
    title = svg.find("title").get_text()
    assert "Submissions per day" in title and "2026-03-01 to 2026-03-31" in title
    assert "4 in total over 31 days" in svg.find("desc").get_text()
    assert len(svg.select("g.bars rect")) == 31
    assert "2026-03-02: 2" in [t.get_text() for t in svg.select("rect title")]
    labels = [t.get_text() for t in svg.select("g.axis text")]
    assert labels == ["2", "0", "01 Mar", "08 Mar", "15 Mar", "22 Mar", "29 Mar"]


def test_breakdowns_by_source_and_referrer(app, march):
    rng = funnel.DateRange(date(2026, 3, 1), date(2026, 3, 31))
    with app.app_context(), db.new_session() as s:
        source = funnel.breakdown(s, "playbook", rng, "utm_source")
        referrer = funnel.breakdown(s, "playbook", rng, "referrer")
        medium = funnel.breakdown(s, "playbook", rng, "utm_medium")
    assert [(r.label, r.views, r.submissions) for r in source] == [
        ("newsletter", 4, 2),
        ("(none)", 3, 1),
        ("linkedin", 3, 1),
    ]
    assert [(r.label, r.views, r.submissions) for r in referrer] == [
        ("(none)", 7, 2),
        ("www.google.com", 3, 1),
        ("news.ycombinator.com", 0, 1),
    ]
    assert [(r.label, r.views, r.submissions) for r in medium] == [("(none)", 10, 4)]


def test_offers_index_lists_every_offer_with_totals(admin_client, march):
    page = admin_client.get(f"/admin/?{MARCH}")
    soup = BeautifulSoup(page.text, "html.parser")
    rows = {
        row.th.get_text(" ", strip=True): [td.get_text() for td in row.find_all("td")]
        for row in soup.select("tbody tr")
    }
    assert rows["The lead nurturing playbook"] == ["10", "4", "40.0%", "3"]
    assert rows["Landing page checklist"] == ["3", "1", "33.3%", "0"]


@pytest.mark.parametrize(
    "query",
    ["start=garbage&end=2026-13-45", "start=2026-03-31&end=2026-03-01", "start=1900-01-01", ""],
)
def test_odd_date_ranges_never_fail(admin_client, march, query):
    assert admin_client.get(f"/admin/offers/playbook?{query}").status_code == 200
    assert admin_client.get(f"/admin/?{query}").status_code == 200


def test_unknown_offer_is_404(admin_client):
    assert admin_client.get("/admin/offers/nope").status_code == 404


def test_date_range_defaults_and_bounds():
    today = date(2026, 3, 31)
    assert funnel.DateRange.from_args({}, today) == funnel.DateRange(date(2026, 3, 2), today)
    swapped = funnel.DateRange.from_args({"start": "2026-03-31", "end": "2026-03-01"}, today)
    assert swapped == funnel.DateRange(date(2026, 3, 1), date(2026, 3, 31))
    huge = funnel.DateRange.from_args({"start": "1900-01-01"}, today)
    assert (huge.end - huge.start).days == funnel.MAX_DAYS - 1
    assert huge.end_at - huge.start_at == timedelta(days=funnel.MAX_DAYS)


def test_chart_of_an_empty_range_is_still_labelled():
    svg = chart.bar_chart([(date(2026, 3, 1), 0)], "Nothing yet")
    assert '<title id="chart-title">Nothing yet</title>' in svg
    assert "0 in total over 1 days" in svg
