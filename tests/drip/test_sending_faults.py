"""A relay that never answers or crawls, a DKIM key that cannot be used: nothing lost or doubled."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Send
from formserver.mail import dispatch
from formserver.mail.tick import tick
from tests.conftest import SmtpSink, free_port
from tests.drip.conftest import submit


def sends(app) -> list[Send]:
    with app.app_context():
        return list(db.session().scalars(select(Send).order_by(Send.id)))


def test_a_relay_that_never_answers_times_out_and_the_batch_waits(app_config) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        app = create_app(app_config | {"MAIL_PORT": silent.getsockname()[1], "MAIL_TIMEOUT": 1})
        client = app.test_client()
        for i in range(3):
            submit(client, email=f"hang{i}@example.com")
        totals: list[dict] = []

        def worker() -> None:
            with app.app_context():
                totals.append(tick(datetime.now(UTC)))

        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        thread.join(timeout=60)  # without MAIL_TIMEOUT the worker would wait for ever
        assert totals and totals[0]["sent"] == 0 and totals[0]["deferred"] == 3
    rows = sends(app)
    assert {(x.status, x.attempts) for x in rows} == {("queued", 0)}
    assert "timed out" in rows[0].last_error


class Crawling(SmtpSink):
    """Takes its time over every message."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


def test_a_pass_too_slow_to_finish_before_its_claims_go_stale_stops_in_time(
    app_config, monkeypatch
) -> None:
    """Claims older than STALE_CLAIM go to other workers: a pass must stop sending before."""
    monkeypatch.setattr(dispatch, "STALE_CLAIM", timedelta(seconds=6))  # stop after 3 s
    sink, port = Crawling(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:  # 8 emails of 0.5 s each, in batches of 3: more than the pass may take
        app = create_app(app_config | {"MAIL_PORT": port, "SEND_BATCH_SIZE": 3})
        client = app.test_client()
        addresses = [f"slow{i}@example.com" for i in range(8)]
        for address in addresses:
            submit(client, email=address)
        now = datetime.now(UTC)
        with app.app_context():
            first = tick(now)
        assert first["sent"] < 8
        rows = sends(app)
        assert "sending" not in {x.status for x in rows}  # nothing left claimed
        assert {(x.status, x.attempts) for x in rows if x.status != "sent"} == {("queued", 0)}
        for minutes in range(2, 40, 2):  # later passes finish the job
            with app.app_context():
                tick(now + timedelta(minutes=minutes))
    finally:
        controller.stop()
    assert sorted(rcpt[0] for _, rcpt in sink.envelopes) == sorted(addresses)  # each once


def test_an_unusable_dkim_key_sends_nothing_spends_nothing_and_stops_the_worker(
    app_config, smtp, tmp_path, caplog, monkeypatch
) -> None:
    sink, _ = smtp
    key_path = tmp_path / "dkim.key"
    dkim_settings = {
        "DKIM_PRIVATE_KEY_PATH": str(key_path),
        "DKIM_SELECTOR": "lodestone",
        "DKIM_DOMAIN": "lodestone.test",
    }
    app = create_app(app_config | dkim_settings)
    client, runner = app.test_client(), app.test_cli_runner()
    submit(client)
    now = datetime.now(UTC)
    with app.app_context(), caplog.at_level(logging.ERROR):
        assert tick(now)["deferred"] == 1
    assert sink.messages == []
    [row] = sends(app)
    assert (row.status, row.attempts) == ("queued", 0)
    assert "cannot read DKIM_PRIVATE_KEY_PATH" in row.last_error
    assert "nothing sent until this is fixed" in caplog.text

    def started(**_: object) -> None:
        pytest.fail("the worker started with an unusable DKIM configuration")

    monkeypatch.setattr(app.extensions["huey"], "create_consumer", started)
    refusals = {
        "": "cannot read DKIM_PRIVATE_KEY_PATH",
        "not a key\n": "is not a usable key",
        "-----BEGIN PRIVATE KEY-----\n%%%%\n-----END PRIVATE KEY-----\n": "is not a usable key",
    }
    with app.app_context():  # as `flask worker` runs it; systemd shows why it will not start
        for text, reason in refusals.items():
            if text:
                key_path.write_text(text)
            refused = runner.invoke(args=["worker"])
            assert refused.exit_code == 1 and reason in refused.output, refused.output
        app.config["DKIM_SELECTOR"] = None  # half the settings: neither signs nor starts
        refused = runner.invoke(args=["worker"])
        assert refused.exit_code == 1 and "or none" in refused.output
        app.config["DKIM_SELECTOR"] = "lodestone"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.write_bytes(pem)  # fixed: the next pass sends, signed, without a restart
    with app.app_context():
        assert tick(now + timedelta(minutes=5))["sent"] == 1
    assert sink.raw[0].startswith(b"DKIM-Signature:")


def test_send_test_to_a_bad_address_is_a_clear_error(app_config) -> None:
    runner = create_app(app_config).test_cli_runner()
    result = runner.invoke(args=["drip", "send-test", "guide-series", "--to", "not-an-address"])
    assert result.exit_code == 1
    # A clean exit with the reason, not a crash (the runner keeps an exception it caught).
    assert "not a valid address" in result.output and isinstance(result.exception, SystemExit)


def test_suppressed_sending_records_the_send_and_sends_nothing(app_config, smtp) -> None:
    sink, _ = smtp
    app = create_app(app_config | {"MAIL_SUPPRESS_SEND": True})
    submit(app.test_client())
    with app.app_context():
        assert tick(datetime.now(UTC))["sent"] == 1
    assert sink.messages == [] and [x.status for x in sends(app)] == ["sent"]
