"""One email that cannot be built fails alone: the rest go out, and it ends up quarantined."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import Enrolment, Lead, Send
from formserver.dashboard import auth
from tests.admin.admin_helpers import login, post_form
from tests.drip.conftest import advance, submit, tick

ORDINARY = [f"lead{i}@example.com" for i in range(5)]
POISON = "legacy@example.com"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return app_config | {"SEND_QUARANTINE_AFTER": 3}


def lead_of(s, email: str) -> Lead:
    return s.scalar(select(Lead).where(Lead.email == email))


def send_of(app, email: str) -> Send:
    with app.app_context():
        s = db.session()
        return s.scalar(select(Send).where(Send.lead_id == lead_of(s, email).id))


def set_attributes(app, email: str, value: object) -> None:
    """Write the lead's stored attributes as an old import left them."""
    with app.app_context(), db.new_session() as s:
        lead_of(s, email).attributes = value
        s.commit()


def test_a_poison_send_fails_alone_and_is_quarantined_then_retried(
    app, client, runner, smtp
) -> None:
    sink, _ = smtp
    for address in (POISON, *ORDINARY):  # the poison send is first in the queue
        assert submit(client, email=address).status_code == 303
    # A lead imported by an older version: its attributes column holds a list, not an object,
    # so building its email raises an error nothing in the send path expects.
    set_attributes(app, POISON, ["imported", "2019"])
    now = datetime.now(UTC) + timedelta(minutes=1)

    output = tick(runner, now.isoformat())
    assert "sent=5" in output and "retry=1" in output
    for address in ORDINARY:
        assert [m["Subject"] for m in sink.to(address)] == ["Your The Secret Guide"]
    send = send_of(app, POISON)
    assert (send.status, send.attempts) == ("queued", 1)
    assert send.last_error.startswith("ValueError: ")

    for attempt in (2, 3):  # each retry waits longer, then it is set aside for good
        tick(runner, send.due_at.replace(tzinfo=UTC).isoformat())
        send = send_of(app, POISON)
        assert send.attempts == attempt
    assert send.status == "quarantined"
    tick(runner, (now + timedelta(days=1)).isoformat())
    assert send_of(app, POISON).attempts == 3 and sink.to(POISON) == []

    with app.app_context(), db.new_session() as s:
        auth.create_user(s, "marketer@lodestone.test", "correct horse battery")
        s.commit()
    assert login(client).status_code == 303
    page = client.get("/admin/sends/")
    assert page.status_code == 200
    row = page.text.split(f'id="send-{send.id}"', 1)[1].split("</tr>", 1)[0]
    assert POISON in row and "guide-series · step 0" in row and "quarantined" in row
    assert ">3<" in row and "ValueError" in row
    assert not any(address in page.text for address in ORDINARY)

    set_attributes(app, POISON, {})  # the data is repaired; a person presses Retry
    answer = post_form(client, "/admin/sends/", f"/admin/sends/{send.id}/retry")
    assert answer.status_code == 303
    assert (send_of(app, POISON).status, send_of(app, POISON).attempts) == ("queued", 0)
    tick(runner, (now + timedelta(days=1, minutes=1)).isoformat())
    assert [m["Subject"] for m in sink.to(POISON)] == ["Your The Secret Guide"]
    assert "Nothing is stuck." in client.get("/admin/sends/").text


def test_retry_needs_the_csrf_token_and_a_stuck_send(app, client, runner, smtp) -> None:
    submit(client, email=POISON)
    tick(runner, (datetime.now(UTC) + timedelta(minutes=1)).isoformat())  # sent: not stuck
    send = send_of(app, POISON)
    with app.app_context(), db.new_session() as s:
        auth.create_user(s, "marketer@lodestone.test", "correct horse battery")
        s.commit()
    assert login(client).status_code == 303
    assert client.post(f"/admin/sends/{send.id}/retry").status_code == 400  # no token
    answer = post_form(client, "/admin/sends/", f"/admin/sends/{send.id}/retry")
    assert answer.status_code == 303
    assert "is not quarantined or failed" in client.get("/admin/sends/").text
    assert send_of(app, POISON).status == "sent"


def test_a_removed_series_does_not_stop_scheduling_the_others(app, client, runner, smtp) -> None:
    """Leads enrolled in a series whose folder was deleted wait; everyone else's steps go out."""
    sink, _ = smtp
    submit(client, email="ada@example.com")
    advance(app, runner, 0.001)
    with app.app_context(), db.new_session() as s:
        ada = lead_of(s, "ada@example.com")
        mine = s.scalar(select(Enrolment).where(Enrolment.lead_id == ada.id))
        due = mine.next_due_at
        s.add(
            Enrolment(
                lead_id=ada.id,
                offer_id="guide",
                series="old",
                status="active",
                enrolled_at=due - timedelta(days=3),
                last_step=0,
                next_due_at=due - timedelta(hours=1),  # due first
            )
        )
        s.commit()
    # "old" has no folder any more: the marketer retired the series after enrolling leads in it.

    tick(runner, due.replace(tzinfo=UTC).isoformat())
    assert [m["Subject"] for m in sink.to("ada@example.com")][-1] == "Tip one for Ada"
    with app.app_context():
        old = db.session().scalar(select(Enrolment).where(Enrolment.series == "old"))
        assert old.status == "active" and old.next_due_at.replace(tzinfo=UTC) > due.replace(
            tzinfo=UTC
        )
