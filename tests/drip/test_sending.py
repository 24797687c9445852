"""The series reaches each lead on time through a real SMTP server, and stops on request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import Enrolment, Event, Lead, Send
from tests.drip.conftest import advance, enrol_at, local_path, next_due, submit, tick
from tests.site.conftest import ASSET_BYTES


def links(message) -> list[str]:
    html = message.get_body(("html",)).get_content()
    return re.findall(r'href="([^"]+)"', html)


def test_asset_email_arrives_with_both_parts_and_a_working_link(app, client, runner, smtp) -> None:
    sink, _ = smtp
    submit(client)
    advance(app, runner, 0.001)  # the asset email goes at once, whatever the day or hour
    [message] = sink.to("ada@example.com")
    assert message["Subject"] == "Your The Secret Guide"
    assert message["From"] == "Maya <maya@lodestone.test>"
    assert message["Reply-To"] == "reply@lodestone.test"
    assert re.fullmatch(r"<send-\d+\.[0-9a-f]{16}@forms\.lodestone\.test>", message["Message-ID"])
    assert message["List-Id"] == "Guide series <guide-series.forms.lodestone.test>"
    assert message["List-Unsubscribe"] is None  # transactional
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Hi Ada, download (https://forms.lodestone.test/download/")
    html = message.get_body(("html",)).get_content()
    assert "Your file" in html and 'style="' in html  # preheader, inlined CSS
    download = next(u for u in links(message) if "/download/" in u)
    assert client.get(local_path(download)).data == ASSET_BYTES


def test_a_simulated_month_across_dst_in_two_time_zones(app, runner, smtp) -> None:
    sink, _ = smtp
    # London changes clocks on 29 March 2026, New York on 8 March.
    enrol_at(
        app,
        datetime(2026, 3, 19, 20, tzinfo=UTC),
        email="lon@example.com",
        first_name="Lon",
        tz="Europe/London",
    )
    enrol_at(
        app,
        datetime(2026, 3, 5, 20, tzinfo=UTC),
        email="nyc@example.com",
        first_name="Nyc",
        tz="America/New_York",
    )
    for _ in range(20):
        due = next_due(app)
        if due is None:
            break
        tick(runner, due.isoformat())
    for address, name in (("lon@example.com", "Lon"), ("nyc@example.com", "Nyc")):
        assert [m["Subject"] for m in sink.to(address)] == [
            "Your The Secret Guide",
            f"Tip one for {name}",
            "Proof",
        ]
    with app.app_context():
        s = db.session()
        sent = {
            (s.get(Lead, x.lead_id).email, x.step): x.sent_at
            for x in s.scalars(select(Send).where(Send.status == "sent"))
        }
    utc = {key: value.astimezone(UTC).replace(tzinfo=None) for key, value in sent.items()}
    # London: Thursday 19th + 2 days = Saturday, so Monday 23rd 09:00 GMT; a week later
    # is Monday 30th 09:00, now BST (08:00 UTC).
    assert utc[("lon@example.com", 1)] == datetime(2026, 3, 23, 9)
    assert utc[("lon@example.com", 2)] == datetime(2026, 3, 30, 8)
    # New York: Monday 9th 09:00 EDT (13:00 UTC, the day after its change), then 16th.
    assert utc[("nyc@example.com", 1)] == datetime(2026, 3, 9, 13)
    assert utc[("nyc@example.com", 2)] == datetime(2026, 3, 16, 13)
    with app.app_context():
        assert {e.status for e in db.session().scalars(select(Enrolment))} == {"completed"}


def test_marketing_email_has_one_click_unsubscribe_that_stops_the_series(
    app, client, runner, smtp
) -> None:
    sink, _ = smtp
    submit(client)
    advance(app, runner, 5)
    tip = sink.to("ada@example.com")[1]
    assert tip["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.match(r"<(https://[^>]+)>", tip["List-Unsubscribe"]).group(1)
    # On the wire the header is the bracketed URL itself, which mailbox providers read; an
    # RFC 2047 encoded-word there (what a re-encoding serialiser does to a long URL) is ignored.
    raw = next(r for r in sink.raw if url.encode() in r)
    header = re.search(rb"^List-Unsubscribe:(.*?)\r\n(?! )", raw, re.M | re.S).group(1)
    assert header.split() == [f"<{url}>".encode()]
    assert url in links(tip)  # also visible in the body
    assert "Unsubscribe: " + url in tip.get_body(("plain",)).get_content()
    page = client.get(local_path(url))
    assert page.status_code == 200 and "Unsubscribe me" in page.text
    with app.app_context():
        assert db.session().scalar(select(Lead.status)) == "active"  # a GET changes nothing
    one_click = client.post(
        local_path(url),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    advance(app, runner, 60)
    assert len(sink.to("ada@example.com")) == 2
    with app.app_context():
        s = db.session()
        assert s.scalar(select(Lead.status)) == "unsubscribed"
        assert s.scalar(select(Enrolment.status)) == "stopped"
        assert "unsubscribed" in set(s.scalars(select(Event.kind)))


def test_resubscribe_and_preferences(app, client, runner, smtp) -> None:
    submit(client)
    advance(app, runner, 0.001)
    sink, _ = smtp
    prefs = (
        next(u for u in links(sink.messages[0]) if "/preferences/" in u)
        if any("/preferences/" in u for u in links(sink.messages[0]))
        else None
    )
    with app.test_request_context():
        from formserver.core.tokens import make_token

        prefs = prefs or f"/preferences/{make_token('preferences', {'l': 1})}"
        unsub = f"/unsubscribe/{make_token('unsubscribe', {'l': 1})}"
    page = client.get(local_path(prefs))
    assert "guide series" in page.text
    client.post(local_path(prefs), data={"leave": "guide-series"})
    with app.app_context():
        assert db.session().scalar(select(Enrolment.status)) == "stopped"
        assert db.session().scalar(select(Lead.status)) == "active"
    client.post(unsub)
    assert "Resubscribe" in client.get(unsub).text
    client.post(f"{unsub}/resubscribe")
    with app.app_context():
        assert db.session().scalar(select(Lead.status)) == "active"


def test_template_edited_between_steps_uses_the_edit(app, client, runner, smtp, site: Path) -> None:
    sink, _ = smtp
    submit(client)
    advance(app, runner, 0.001)
    step = site / "content" / "emails" / "guide-series" / "01-tip.md"
    step.write_text(step.read_text().replace("Subject: Tip one", "Subject: Edited tip"))
    advance(app, runner, 5)
    assert sink.to("ada@example.com")[1]["Subject"] == "Edited tip for Ada"


def test_added_step_reaches_leads_who_have_not_passed_it(app, client, runner, smtp, site) -> None:
    sink, _ = smtp
    submit(client)
    advance(app, runner, 0.001)
    folder = site / "content" / "emails" / "guide-series"
    (folder / "01-tip.md").unlink()  # removed: skipped
    (folder / "03-new.md").write_text("Subject: Brand new\nDelay: 1 day\n\nNew step.\n")
    advance(app, runner, 40)
    assert [m["Subject"] for m in sink.to("ada@example.com")] == [
        "Your The Secret Guide",
        "Proof",
        "Brand new",
    ]


def test_missing_merge_field_is_not_sent_and_is_retried_after_a_fix(
    app, client, runner, smtp, site
) -> None:
    sink, _ = smtp
    submit(client)
    advance(app, runner, 0.001)
    step = site / "content" / "emails" / "guide-series" / "01-tip.md"
    good = step.read_text()
    step.write_text(good.replace("A **tip**.", "A **tip** for {{ lead.shoe_size }}."))
    due = next_due(app)
    tick(runner, due.isoformat())
    assert len(sink.to("ada@example.com")) == 1
    with app.app_context():
        send = db.session().scalar(select(Send).where(Send.step == 1))
        assert send.status == "queued" and "shoe_size" in send.last_error
        assert "01-tip.md:4" in send.last_error
    step.write_text(good)
    tick(runner, (due + timedelta(hours=2)).isoformat())
    assert [m["Subject"] for m in sink.to("ada@example.com")][1] == "Tip one for Ada"


def test_lead_values_cannot_inject_html(app, client, runner, smtp) -> None:
    sink, _ = smtp
    submit(client, first_name="<b>Bold</b>")
    advance(app, runner, 0.001)
    html = sink.messages[0].get_body(("html",)).get_content()
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_sends_once_across_repeated_ticks(app, client, runner, smtp) -> None:
    sink, _ = smtp
    submit(client)
    moment = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    for _ in range(3):
        tick(runner, moment)
    assert len(sink.messages) == 1


def test_message_date_is_a_valid_rfc_date(app, client, runner, smtp) -> None:
    sink, _ = smtp
    submit(client)
    advance(app, runner, 0.001)
    assert parsedate_to_datetime(sink.messages[0]["Date"]).tzinfo is not None


@pytest.mark.parametrize("track_opens", [False, True])
def test_a_marketing_email_shows_no_markup_as_text(app, client, runner, smtp, track_opens) -> None:
    """Step 1 showed a literal ``</body>``: the pixel's Markup escaped the tag it was added to."""
    app.config["TRACK_OPENS"] = track_opens
    sink, _ = smtp
    submit(client)
    advance(app, runner, 5)
    tip = sink.to("ada@example.com")[1]
    html = tip.get_body(("html",)).get_content()
    visible = BeautifulSoup(html, "html.parser").get_text()
    assert "</" not in visible and "&lt;" not in html
    assert html.rstrip().endswith("</html>")
    assert ("/t/open/" in html) is track_opens
