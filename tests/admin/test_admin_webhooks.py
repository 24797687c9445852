"""Webhooks reach a real HTTP receiver, signed, through the Huey queue, retried until they land."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from huey import SqliteHuey
from sqlalchemy import select

from formserver import webhook_tasks
from formserver.core import db
from formserver.core.models import Lead, WebhookDelivery
from formserver.domain import webhooks
from tests.admin.admin_helpers import T0, post_form, text_of

SECRET = "whsec_test_secret"
AUTH = {"Authorization": "Bearer test-token-1"}


class Receiver:
    """A local HTTP endpoint that answers with the given statuses in turn, then 200.

    A 3xx answer points at ``/elsewhere`` on the same server, which answers 200 to anything:
    a client that follows the redirect would see success there.
    """

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.elsewhere: list[str] = []  # requests that reached the redirect target
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                data = self.rfile.read(length)
                if self.path == "/elsewhere":
                    self.do_GET()
                    return
                receiver.requests.append((dict(self.headers), data))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.end_headers()
                self.wfile.write(b"boom" if status >= 500 else b"ok")

            def do_GET(self) -> None:
                receiver.elsewhere.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/lodestone"

    def verified(self, index: int) -> dict:
        """The body of request ``index``, after checking its signature like a receiver must."""
        headers, body = self.requests[index]
        assert webhooks.verify(
            SECRET,
            headers["X-Lodestone-Timestamp"],
            body,
            headers["X-Lodestone-Signature"],
            now=int(time.time()),
        )
        return json.loads(body)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def app_config(app_config: dict, receiver: Receiver) -> dict:
    app_config["WEBHOOKS"] = [
        {"url": receiver.url, "secret": SECRET, "events": ["lead.created", "lead.converted"]},
        {"url": "ftp://nope", "secret": "x"},  # invalid: skipped with an error in the log
        {"secret": "no url"},
    ]
    app_config["WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver listens on loopback
    return app_config


@pytest.fixture
def huey(app, tmp_path):
    """The app's real Huey queue (a private SQLite one while tasks.py provides none)."""
    queue = webhook_tasks.find_huey(app)
    if queue is None:
        queue = SqliteHuey("test", filename=str(tmp_path / "webhooks-queue.db"))
        app.extensions["huey"] = queue
        webhook_tasks.init_app(app)
    queue.flush()
    return queue


def run_queue(huey) -> list[str]:
    """Run every task in the queue, as the worker would, including retries it schedules."""
    results = []
    for _ in range(20):
        task = huey.dequeue()
        if task is None:
            break
        # A retry carries an eta; the worker would wait for it, the test moves the clock.
        results.append(huey.execute(task, timestamp=task.eta))
    return results


def _deliveries(app) -> list[WebhookDelivery]:
    with db.new_session(app) as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_conversion_is_delivered_signed_and_retried_after_a_500(
    app, client, huey, receiver, make_lead
):
    make_lead("ada@example.com", first_name="Ada")
    receiver.statuses = [500]
    body = {"email": "ada@example.com", "event": "converted", "value": 1200}
    assert client.post("/api/events", json=body, headers=AUTH).status_code == 201
    assert run_queue(huey) == ["pending", "delivered"]
    assert len(receiver.requests) == 2
    first, second = receiver.verified(0), receiver.verified(1)
    assert first == second  # the same delivery, sent again
    assert second["event"] == "lead.converted"
    assert second["lead"]["email"] == "ada@example.com"
    assert second["lead"]["first_name"] == "Ada"
    assert second["data"] == {"value": 1200}
    headers = receiver.requests[1][0]
    assert headers["X-Lodestone-Event"] == "lead.converted"
    assert headers["X-Lodestone-Delivery"] == str(second["id"])
    assert headers["Content-Type"] == "application/json"
    [delivery] = _deliveries(app)
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert delivery.last_status == 200


def test_a_redirect_is_a_failure_that_is_retried_and_shown(
    app, admin_client, huey, receiver, make_lead
):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    lead_id = make_lead("ada@example.com")
    receiver.statuses = [302, 302]
    with app.app_context(), db.new_session() as s:
        ids = webhooks.emit(s, "lead.created", s.get(Lead, lead_id), T0)
        s.commit()
    first = webhooks.attempt(app, ids[0], T0)
    assert first.status == "pending" and first.delivered_at is None
    assert first.last_status == 302 and "redirect" in first.last_error
    assert first.next_attempt_at == T0.replace(second=30)  # retried, with backoff
    page = text_of(admin_client.get("/admin/webhooks/?status=pending").text)
    assert "302 redirect to /elsewhere not followed" in page
    with app.app_context():
        webhooks.queue_deliveries(ids)
    assert run_queue(huey) == ["failed"]
    assert len(receiver.requests) == 2 and receiver.verified(1)["event"] == "lead.created"
    assert receiver.elsewhere == []  # the redirect target never heard from us
    [delivery] = _deliveries(app)
    assert delivery.status == "failed" and delivery.delivered_at is None
    failed = text_of(admin_client.get("/admin/webhooks/?status=failed").text)
    assert "lead.created" in failed and "302 redirect to /elsewhere not followed" in failed


def test_the_retry_waits_with_exponential_backoff(app, huey, receiver, make_lead):
    lead_id = make_lead("ada@example.com")
    receiver.statuses = [503, 503]
    with app.app_context(), db.new_session() as s:
        ids = webhooks.emit(s, "lead.created", s.get(Lead, lead_id), T0)
        s.commit()
    attempts = [webhooks.attempt(app, ids[0], T0)]
    assert attempts[0].next_attempt_at == T0.replace(second=30)
    assert webhooks.attempt(app, ids[0], T0.replace(second=29)) is None  # not due yet
    attempts.append(webhooks.attempt(app, ids[0], T0.replace(second=30)))
    assert (attempts[1].next_attempt_at - T0.replace(second=30)).total_seconds() == 60
    assert attempts[1].last_status == 503 and "boom" in attempts[1].last_error
    assert webhooks.backoff(30, 30) == webhooks.MAX_BACKOFF


def test_delivery_fails_after_max_attempts_and_can_be_retried_from_the_log(
    app, admin_client, huey, receiver, make_lead
):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    lead_id = make_lead("ada@example.com")
    receiver.statuses = [500, 500]
    with app.app_context(), db.new_session() as s:
        ids = webhooks.emit(s, "lead.created", s.get(Lead, lead_id), T0)
        s.commit()
        webhooks.queue_deliveries(ids)
    assert run_queue(huey) == ["pending", "failed"]
    page = admin_client.get("/admin/webhooks/")
    assert "lead.created" in page.text and "failed" in text_of(page.text)
    assert receiver.url in page.text and SECRET not in page.text
    response = post_form(admin_client, "/admin/webhooks/", f"/admin/webhooks/{ids[0]}/retry")
    assert response.status_code == 303
    assert run_queue(huey) == ["delivered"]
    assert receiver.verified(2)["event"] == "lead.created"
    assert "delivered" in text_of(admin_client.get("/admin/webhooks/?status=delivered").text)


def test_an_unreachable_receiver_is_logged(app, huey, make_lead):
    app.config["WEBHOOKS"] = [{"url": "http://127.0.0.1:9/closed", "secret": SECRET}]
    lead_id = make_lead("ada@example.com")
    with app.app_context(), db.new_session() as s:
        ids = webhooks.emit(s, "lead.unsubscribed", s.get(Lead, lead_id), T0)
        s.commit()
    row = webhooks.attempt(app, ids[0], T0)
    assert row.status == "pending" and row.last_status is None
    assert "refused" in row.last_error.lower()


def test_the_sweep_requeues_deliveries_that_were_never_queued(app, huey, receiver, make_lead):
    lead_id = make_lead("ada@example.com")
    with app.app_context(), db.new_session() as s:
        webhooks.emit(s, "lead.created", s.get(Lead, lead_id), T0)  # committed, never queued
        s.commit()
    assert huey.pending_count() == 0
    assert app.extensions["admin_webhook_tasks"]["sweep"].call_local() == 1
    assert run_queue(huey) == ["delivered"]
    assert receiver.verified(0)["event"] == "lead.created"


def test_events_nobody_subscribed_to_are_not_sent(app, huey, receiver, make_lead):
    lead_id = make_lead("ada@example.com")
    with app.app_context(), db.new_session() as s:
        assert webhooks.emit(s, "lead.confirmed", s.get(Lead, lead_id), T0) == []
        with pytest.raises(ValueError):
            webhooks.emit(s, "lead.exploded", s.get(Lead, lead_id), T0)
    with app.app_context():
        assert [h.url for h in webhooks.configured()] == [receiver.url]


def test_signatures_catch_tampering_and_replays():
    body = b'{"id":1}'
    signature = webhooks.sign(SECRET, 1_700_000_000, body)
    assert signature.startswith("sha256=") and len(signature) == 71
    assert webhooks.verify(SECRET, "1700000000", body, signature, now=1_700_000_100)
    assert not webhooks.verify(SECRET, "1700000000", b'{"id":2}', signature, now=1_700_000_100)
    assert not webhooks.verify("other", "1700000000", body, signature, now=1_700_000_100)
    assert not webhooks.verify(SECRET, "1700000000", body, signature, now=1_700_001_000)
    assert not webhooks.verify(SECRET, "soon", body, signature, now=1_700_000_100)
