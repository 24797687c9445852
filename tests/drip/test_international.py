"""Internationalised addresses reach the lead, or fail alone with a reason, on any relay."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import Lead, Send
from formserver.dashboard import auth
from tests.admin.admin_helpers import login, post_form
from tests.conftest import SmtpSink, free_port
from tests.drip.conftest import submit, tick

ORDINARY = [f"lead{i}@example.com" for i in range(5)]


@dataclass
class Relay:
    """A real SMTP sink that offers SMTPUTF8 (RFC 6531) or does not."""

    sink: SmtpSink
    port: int
    smtputf8: bool

    def arrived(self, address: str) -> list[EmailMessage]:
        """Messages whose envelope recipient is ``address``, headers read as UTF-8."""
        return [
            message_from_string(raw.decode("utf-8"), policy=policy.default)
            for raw, (_, rcpts) in zip(self.sink.raw, self.sink.envelopes, strict=True)
            if address in rcpts
        ]


@pytest.fixture(params=["smtputf8", "ascii-only"])
def relay(request: pytest.FixtureRequest) -> Iterator[Relay]:
    sink, port = SmtpSink(), free_port()
    offers = request.param == "smtputf8"
    controller = Controller(sink, hostname="127.0.0.1", port=port, enable_SMTPUTF8=offers)
    controller.start()
    yield Relay(sink, port, offers)
    controller.stop()


@pytest.fixture
def app_config(app_config: dict, relay: Relay) -> dict:
    return app_config | {"MAIL_PORT": relay.port}


def rows(app, email: str) -> list[Send]:
    with app.app_context():
        s = db.session()
        lead = s.scalar(select(Lead).where(Lead.email == email))
        return list(s.scalars(select(Send).where(Send.lead_id == lead.id).order_by(Send.id)))


def test_one_international_address_does_not_stop_the_others(app, client, runner, relay) -> None:
    """The reported failure: the first send in the queue is international, five follow it."""
    for address in ("ñandú@example.com", "anne@bücher.example", *ORDINARY):
        assert submit(client, email=address).status_code == 303
    now = datetime.now(UTC) + timedelta(minutes=1)
    output = tick(runner, now.isoformat())

    for address in ORDINARY:
        [message] = relay.arrived(address)
        assert message["Subject"] == "Your The Secret Guide"
    if relay.smtputf8:  # sent as given, in the envelope and in the To header
        [message] = relay.arrived("ñandú@example.com")
        assert message["To"] == "ñandú@example.com"
        assert (
            "download (https://forms.lodestone.test/download/"
            in message.get_body(("plain",)).get_content()
        )
        [message] = relay.arrived("anne@bücher.example")
        assert message["To"] == "anne@bücher.example"
        assert "sent=7" in output
    else:  # the domain goes IDNA-encoded; a non-ASCII local part cannot go at all
        [message] = relay.arrived("anne@xn--bcher-kva.example")
        assert message["To"] == "anne@xn--bcher-kva.example"
        assert relay.arrived("ñandú@example.com") == []
        [send] = rows(app, "ñandú@example.com")
        assert send.status == "failed" and send.attempts == 1
        assert "SMTPUTF8" in send.last_error and "ñandú@example.com" in send.last_error
        with app.app_context():  # the address is fine, the relay is not: no bounce
            lead = db.session().scalar(select(Lead).where(Lead.email == "ñandú@example.com"))
            assert lead.status == "active"
        assert "sent=6" in output and "failed=1" in output

    # Ten minutes on (when a stuck claim would be re-queued) nothing is left to send again.
    before = len(relay.sink.raw)
    tick(runner, (now + timedelta(minutes=11)).isoformat())
    assert len(relay.sink.raw) == before
    with app.app_context():
        statuses = set(db.session().scalars(select(Send.status)))
    assert "sending" not in statuses


def test_double_opt_in_confirmation_to_an_international_address(app, client, runner, relay) -> None:
    """The confirm email takes the same path as the drip steps."""
    assert submit(client, offer="double", email="josé@bücher.example").status_code == 303
    tick(runner, (datetime.now(UTC) + timedelta(minutes=1)).isoformat())
    address = "josé@bücher.example" if relay.smtputf8 else None
    if address:
        [message] = relay.arrived(address)
        assert message["Subject"] == "Confirm please"
    else:
        assert relay.sink.raw == []
        [send] = rows(app, "josé@bücher.example")
        assert send.kind == "confirm" and send.status == "failed"
        assert "SMTPUTF8" in send.last_error


def test_send_test_to_an_international_address(app, runner, relay) -> None:
    result = runner.invoke(args=["drip", "send-test", "guide-series", "--to", "josé@example.com"])
    if relay.smtputf8:
        assert result.exit_code == 0, result.output
        subjects = [m["Subject"] for m in relay.arrived("josé@example.com")]
        assert len(subjects) == 4 and all(s.startswith("[TEST] ") for s in subjects)  # 3 + confirm
    else:
        assert result.exit_code == 1
        assert "SMTPUTF8" in result.output and isinstance(result.exception, SystemExit)
        assert relay.sink.raw == []
    result = runner.invoke(
        args=["drip", "send-test", "guide-series", "--to", "anne@bücher.example"]
    )
    assert result.exit_code == 0, result.output
    wire = "anne@bücher.example" if relay.smtputf8 else "anne@xn--bcher-kva.example"
    assert [m["To"] for m in relay.arrived(wire)] == [wire] * 4


def test_dashboard_test_send_to_an_international_address(app, client, relay) -> None:
    with app.app_context(), db.new_session() as s:
        auth.create_user(s, "marketer@lodestone.test", "correct horse battery")
        s.commit()
    assert login(client).status_code == 303
    page = "/admin/series/guide-series"
    answer = post_form(client, page, f"{page}/send-test", {"to": "josé@example.com", "step": "0"})
    assert answer.status_code == 302
    shown = client.get(page).text
    if relay.smtputf8:
        assert "Sent 1 test email(s) to josé@example.com." in shown
        assert len(relay.arrived("josé@example.com")) == 1
    else:
        assert "Not sent:" in shown and "SMTPUTF8" in shown


def test_the_form_refuses_a_non_ascii_local_part_when_told_to(app_config, relay) -> None:
    from formserver import create_app

    client = create_app(app_config | {"INTERNATIONAL_EMAIL": "refuse"}).test_client()
    answer = submit(client, email="ñandú@example.com")
    assert answer.status_code == 422
    assert "before the @" in answer.text
    assert submit(client, email="anne@bücher.example").status_code == 303  # the domain is fine


def test_the_form_accepts_international_addresses_by_default(client, relay) -> None:
    assert submit(client, email="ñandú@example.com").status_code == 303
