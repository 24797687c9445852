"""The SMTP server goes down mid-run and comes back: every email once, in order per lead."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from formserver.content.series import get_series
from formserver.core import db
from formserver.core.models import Enrolment, Send
from tests.conftest import ROOT, SmtpSink, free_port
from tests.reliability.fleet import app_for, seed, statuses, worker

pytestmark = pytest.mark.slow(seconds=18)
LEADS = 120
WORKERS = 3


class FailingSink(SmtpSink):
    """Accepts ``budget`` messages, then answers 421 like a server shutting down."""

    def __init__(self, budget: int | None = None) -> None:
        super().__init__()
        self.budget = budget

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.budget is not None and len(self.raw) >= self.budget:
            return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


def run_pass(pg_url: str, port: int, when: datetime, tmp_path) -> None:
    """One dispatch pass by three worker processes at once, at simulated time ``when``."""
    workers = [worker(pg_url, port, when, tmp_path) for _ in range(WORKERS)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), [o[1][-500:] for o in outputs]


def next_due(app) -> datetime:
    """The earliest time a step or a retry falls due."""
    with app.app_context():
        s = db.session()
        step = s.scalar(select(func.min(Enrolment.next_due_at)).where(Enrolment.status == "active"))
        retry = s.scalar(select(func.min(Send.due_at)).where(Send.status == "queued"))
    return min(x for x in (step, retry) if x is not None)


def test_smtp_down_then_back_every_email_once_in_order(pg_url, tmp_path) -> None:
    steps = len(get_series(ROOT / "content" / "emails", "playbook-nurture").steps)
    port = free_port()
    app = app_for(pg_url, port, tmp_path)
    start = datetime.now(UTC)
    seed(app, LEADS, start)
    sinks = [FailingSink(budget=LEADS // 3)]  # goes down a third of the way through
    controller = Controller(sinks[0], hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run_pass(pg_url, port, start, tmp_path)
        controller.stop()  # now nothing listens at all
        for minutes in (2, 30):
            run_pass(pg_url, port, start + timedelta(minutes=minutes), tmp_path)
        during = statuses(app)
        assert set(during) == {"sent", "queued"}, during  # nothing failed, nothing stuck
        sinks.append(FailingSink())  # back up
        controller = Controller(sinks[1], hostname="127.0.0.1", port=port)
        controller.start()
        when = start + timedelta(hours=1)
        for _ in range(4 * steps):  # each pass jumps to the next moment something is due
            run_pass(pg_url, port, when, tmp_path)
            if statuses(app) == {"sent": LEADS * steps}:
                break
            when = max(when, next_due(app))
    finally:
        controller.stop()
    assert statuses(app) == {"sent": LEADS * steps}
    with app.app_context():
        s = db.session()
        step_of = dict(s.execute(select(Send.message_id, Send.step)).all())
        completed = s.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.status == "completed")
        )
        retried = s.scalar(select(func.count()).select_from(Send).where(Send.attempts > 0))
    assert completed == LEADS
    assert 0 < retried <= WORKERS * 4  # only an email in flight spends an attempt on an outage
    received: dict[str, list[int]] = defaultdict(list)
    ids = []
    for sink in sinks:
        for message, (_, rcpts) in zip(sink.messages, sink.envelopes, strict=True):
            ids.append(message["Message-ID"])
            received[rcpts[0]].append(step_of[message["Message-ID"]])
    assert len(sinks[0].messages) < LEADS  # the outage really cut the first run short
    assert len(ids) == len(set(ids)) == LEADS * steps  # each email once
    assert len(received) == LEADS
    assert all(got == list(range(steps)) for got in received.values())  # in order per lead
