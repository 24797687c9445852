"""SMTP outages, bounces, double opt-in, DKIM, and both queue backends, all for real."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import dkim
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Consent, Enrolment, Event, Lead, Send
from formserver.mail.tick import queue_sends
from tests.conftest import SmtpSink, free_port
from tests.drip.conftest import advance, enrol_at, local_path, next_due, submit, tick


def test_smtp_down_then_up_delivers_everything_once(app_config, site, tmp_path) -> None:
    port = free_port()
    app = create_app(app_config | {"MAIL_PORT": port})
    client, runner = app.test_client(), app.test_cli_runner()
    for i in range(3):
        submit(client, email=f"lead{i}@example.com")
    now = datetime.now(UTC)
    tick(runner, now.isoformat())  # nothing listens: every send waits for a retry
    with app.app_context():
        s = db.session()
        sends = list(s.scalars(select(Send)))
        # The outage is the server's, not the emails': no attempt is spent, however long it lasts.
        assert {x.status for x in sends} == {"queued"} and {x.attempts for x in sends} == {0}
        assert all(x.due_at > now for x in sends) and "SMTP unavailable" in sends[0].last_error
    for hours in (1, 24, 24 * 7):
        tick(runner, (now + timedelta(hours=hours)).isoformat())
    with app.app_context():
        assert {(x.status, x.attempts) for x in db.session().scalars(select(Send))} == {
            ("queued", 0)
        }
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        week = now + timedelta(hours=24 * 7)
        tick(runner, (week + timedelta(seconds=30)).isoformat())  # deferred by SEND_RETRY_BASE
        assert sink.messages == []
        tick(runner, (week + timedelta(minutes=5)).isoformat())
        tick(runner, (week + timedelta(minutes=10)).isoformat())
    finally:
        controller.stop()
    assert sorted(rcpt[0] for _, rcpt in sink.envelopes) == [
        "lead0@example.com",
        "lead1@example.com",
        "lead2@example.com",
    ]


class Busy(SmtpSink):
    """Answers 450 (mailbox busy) for one address, 421 (closing) for another."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("busy"):
            return "450 4.2.1 Mailbox busy, try later"
        if address.startswith("closing"):
            return "421 4.3.2 Shutting down"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_4xx_retries_that_email_and_421_defers_the_rest_of_the_batch(app_config) -> None:
    port = free_port()
    sink = Busy()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = create_app(app_config | {"MAIL_PORT": port, "SEND_BATCH_SIZE": 10})
        client, runner = app.test_client(), app.test_cli_runner()
        for name in ("busy", "ok1", "closing", "ok2"):
            submit(client, email=f"{name}@example.com")
        tick(runner, datetime.now(UTC).isoformat())
    finally:
        controller.stop()
    with app.app_context():
        rows = db.session().execute(
            select(Lead.email, Send.status, Send.attempts).join(Lead, Lead.id == Send.lead_id)
        )
        state = {email.split("@")[0]: (status, attempts) for email, status, attempts in rows}
    # Busy mailbox: that email retries later, the connection goes on to ok1. The server's 421
    # ends the connection: the email in flight spends an attempt, ok2 waits without spending one.
    assert state == {
        "busy": ("queued", 1),
        "ok1": ("sent", 0),
        "closing": ("queued", 1),
        "ok2": ("queued", 0),
    }
    assert [rcpt for _, rcpt in sink.envelopes] == [["ok1@example.com"]]


class Rejecting(SmtpSink):
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("gone"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_permanent_failure_bounces_the_lead_and_stops_its_series(app_config) -> None:
    port = free_port()
    sink = Rejecting()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = create_app(app_config | {"MAIL_PORT": port})
        client, runner = app.test_client(), app.test_cli_runner()
        submit(client, email="gone@example.com")
        submit(client, email="here@example.com")
        advance(app, runner, 30)
    finally:
        controller.stop()
    assert [rcpt for _, rcpt in sink.envelopes] == [["here@example.com"]] * 3
    with app.app_context():
        s = db.session()
        lead = s.scalar(select(Lead).where(Lead.email == "gone@example.com"))
        assert lead.status == "bounced" and lead.bounced_at is not None
        assert s.scalar(select(Enrolment.status).where(Enrolment.lead_id == lead.id)) == "stopped"
        assert "bounced" in set(s.scalars(select(Event.kind).where(Event.lead_id == lead.id)))


def test_double_opt_in_confirms_only_on_post(app, client, runner, smtp) -> None:
    sink, _ = smtp
    submit(client, offer="double", first_name=None)
    advance(app, runner, 0.001)
    [confirm] = sink.messages
    assert confirm["Subject"] == "Confirm please"
    url = re.search(r'href="([^"]+/confirm/[^"]+)"', confirm.get_body(("html",)).get_content())[1]
    page = client.get(local_path(url))
    assert page.status_code == 200 and "Yes, confirm my email" in page.text
    with app.app_context():
        assert db.session().scalar(select(Lead.status)) == "unconfirmed"  # the GET changed nothing
    advance(app, runner, 3)
    assert len(sink.messages) == 1  # no series before confirmation
    assert client.post(local_path(url)).status_code == 200
    advance(app, runner, 0.001)
    assert [m["Subject"] for m in sink.messages] == ["Confirm please", "Your Double Offer"]
    with app.app_context():
        s = db.session()
        lead = s.scalar(select(Lead))
        assert lead.status == "active" and lead.confirmed_at is not None
        consent = s.scalar(select(Consent))
        assert consent.confirmed_at is not None and consent.version == "v2"
    assert client.post(local_path(url)).status_code == 200  # twice is harmless
    advance(app, runner, 0.001)
    assert len(sink.messages) == 2


def test_unconfirmed_leads_are_deleted_after_the_retention_period(app, runner, smtp) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=8)
    enrol_at(app, long_ago, offer_id="double", email="old@example.com")
    enrol_at(app, datetime.now(UTC), offer_id="double", email="new@example.com")
    tick(runner, datetime.now(UTC).isoformat())
    with app.app_context():
        emails = set(db.session().scalars(select(Lead.email)))
    assert emails == {"new@example.com"}


def test_dkim_signature_covers_the_unsubscribe_headers(app_config, tmp_path, smtp) -> None:
    sink, _ = smtp
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    app = create_app(
        app_config
        | {
            "DKIM_PRIVATE_KEY_PATH": str(tmp_path / "dkim.pem"),
            "DKIM_SELECTOR": "lodestone",
            "DKIM_DOMAIN": "lodestone.test",
        }
    )
    client, runner = app.test_client(), app.test_cli_runner()
    submit(client)
    advance(app, runner, 5)
    raw = sink.raw[1]
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + __import__("base64").b64encode(public)
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: record)
    signed = re.search(rb"h=([^;]+);", raw.replace(b"\r\n ", b"").replace(b"\n ", b""))[1].lower()
    assert b"list-unsubscribe" in signed and b"list-unsubscribe-post" in signed


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_queue_runs_the_send_task(app_config, smtp, tmp_path, backend, request) -> None:
    sink, _ = smtp
    url = (
        f"sqlite:///{tmp_path / 'huey.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    app = create_app(app_config | {"QUEUE_URL": url})
    huey = app.extensions["huey"]
    huey.flush()
    client = app.test_client()
    submit(client)  # capture queues the asset email's send task after commit
    assert huey.pending_count() == 1
    task = huey.dequeue()
    huey.execute(task)
    assert [m["Subject"] for m in sink.messages] == ["Your The Secret Guide"]
    with app.app_context():
        queue_sends([1])  # a duplicate task for the same send does nothing
    huey.execute(huey.dequeue())
    assert len(sink.messages) == 1
    huey.flush()


def test_sweep_finds_sends_that_never_reached_the_queue(app_config, smtp, tmp_path) -> None:
    sink, _ = smtp
    app = create_app(app_config | {"QUEUE_URL": f"sqlite:///{tmp_path / 'h.db'}"})
    app.test_client()
    enrol_at(app, datetime.now(UTC))  # stored, never queued
    huey = app.extensions["huey"]
    assert huey.pending_count() == 0
    app.extensions["huey_tasks"]["dispatch"].call_local()
    assert len(sink.messages) == 1
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Send)) == 1


def test_next_due_is_none_when_everything_is_sent(app, runner, smtp) -> None:
    enrol_at(app, datetime.now(UTC) - timedelta(days=60))
    advance(app, runner, 1)
    assert next_due(app) is None
    assert len(smtp[0].messages) == 3


def test_unconfirmed_lead_asking_again_gets_one_more_confirmation_per_hour(
    app, client, runner, smtp
) -> None:
    sink, _ = smtp
    now = datetime.now(UTC)
    enrol_at(app, now - timedelta(hours=2), offer_id="double")
    enrol_at(app, now - timedelta(minutes=30), offer_id="double")  # asks again: resent
    enrol_at(app, now - timedelta(minutes=10), offer_id="double")  # within the hour: not
    tick(runner, now.isoformat())
    assert [m["Subject"] for m in sink.messages] == ["Confirm please", "Confirm please"]
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Enrolment)) == 1


def test_reenrolment_only_when_the_series_allows_it(app, runner, smtp, site) -> None:
    sink, _ = smtp
    long_ago = datetime.now(UTC) - timedelta(days=90)
    enrol_at(app, long_ago)
    advance(app, runner, 1)  # the whole series, long finished
    assert len(sink.messages) == 3
    enrol_at(app, datetime.now(UTC))
    advance(app, runner, 0.001)
    assert len(sink.messages) == 3  # once per lead by default
    toml = site / "content" / "emails" / "guide-series" / "series.toml"
    toml.write_text(
        toml.read_text().replace(
            'time_zone = "Europe/London"', 'time_zone = "Europe/London"\nreenrol = true'
        )
    )
    enrol_at(app, datetime.now(UTC))
    advance(app, runner, 0.001)
    assert [m["Subject"] for m in sink.messages][-1] == "Your The Secret Guide"
    with app.app_context():
        cycles = sorted(db.session().scalars(select(Enrolment.cycle)))
    assert cycles == [0, 1]
