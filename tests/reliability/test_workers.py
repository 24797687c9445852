"""Many workers, crashes: every due email goes out once (PostgreSQL row claims), none is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, insert, select

from formserver import create_app, db
from formserver.models import Enrolment, Lead, Send
from tests.conftest import ROOT, free_port, pg_schema

pytestmark = pytest.mark.slow


class Sink:
    """An SMTP server that counts messages per recipient, optionally slowly."""

    def __init__(self, delay: float = 0.0) -> None:
        self.received: Counter[str] = Counter()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        if self.delay:
            await asyncio.sleep(self.delay)
        for rcpt in envelope.rcpt_tos:
            self.received[rcpt] += 1
        return "250 OK"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Row claims across processes are a PostgreSQL feature (SQLite: see docs/deploy.md)."""
    with pg_schema() as url:
        yield url  # the app each test creates migrates it


def seed(app, count: int, now: datetime) -> None:  # noqa: ANN001
    """``count`` leads with their asset email due now."""
    with app.app_context(), db.new_session() as s:
        s.execute(
            insert(Lead),
            [
                {
                    "id": i,
                    "email": f"w{i}@example.com",
                    "status": "active",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, count + 1)
            ],
        )
        s.execute(
            insert(Enrolment),
            [
                {
                    "id": i,
                    "lead_id": i,
                    "offer_id": "playbook",
                    "series": "playbook-nurture",
                    "status": "active",
                    "enrolled_at": now,
                    "last_step": 0,
                }
                for i in range(1, count + 1)
            ],
        )
        s.execute(
            insert(Send),
            [
                {
                    "lead_id": i,
                    "enrolment_id": i,
                    "offer_id": "playbook",
                    "series": "playbook-nurture",
                    "kind": "step",
                    "step": 0,
                    "status": "queued",
                    "due_at": now - timedelta(seconds=1),
                }
                for i in range(1, count + 1)
            ],
        )
        s.commit()


def worker(url: str, port: int, when: datetime, tmp_path) -> subprocess.Popen:  # noqa: ANN001
    env = os.environ | {
        "FORMSERVER_DATABASE_URL": url,
        "FORMSERVER_MAIL_PORT": str(port),
        "FORMSERVER_SECRET_KEY": "reliability",
        "FORMSERVER_AUTO_MIGRATE": "false",
        "FORMSERVER_QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}",
        "FORMSERVER_SEND_BATCH_SIZE": "50",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "formserver",
            "drip",
            "tick",
            "--now",
            when.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def statuses(app) -> dict[str, int]:  # noqa: ANN001
    with app.app_context():
        rows = db.session().execute(select(Send.status, func.count()).group_by(Send.status))
        return dict(rows.all())


def test_three_workers_send_each_email_exactly_once(pg_url, tmp_path) -> None:  # noqa: ANN001
    count = int(os.environ.get("RELIABILITY_SENDS", "20000"))
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "reliability",
            "DATABASE_URL": pg_url,
            "QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}",
            "MAIL_PORT": port,
        }
    )
    now = datetime.now(UTC)
    seed(app, count, now)
    try:
        workers = [worker(pg_url, port, now, tmp_path) for _ in range(3)]
        outputs = [w.communicate(timeout=600) for w in workers]
    finally:
        controller.stop()
    assert all(w.returncode == 0 for w in workers), [o[1][-500:] for o in outputs]
    sent_by = [int(o[0].decode().split("sent=")[1].split()[0]) for o in outputs]
    assert sum(sent_by) == count and min(sent_by) > 0, sent_by  # all three did a share
    assert len(sink.received) == count
    assert set(sink.received.values()) == {1}
    assert statuses(app) == {"sent": count}


def test_kill_9_mid_batch_loses_nothing_and_doubles_at_most_one(pg_url, tmp_path) -> None:  # noqa: ANN001
    count = 300
    sink = Sink(delay=0.02)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "reliability",
            "DATABASE_URL": pg_url,
            "QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}",
            "MAIL_PORT": port,
        }
    )
    now = datetime.now(UTC)
    seed(app, count, now)
    try:
        victim = worker(pg_url, port, now, tmp_path)
        deadline = time.monotonic() + 60
        while sum(sink.received.values()) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        before = statuses(app)
        assert before.get("sending", 0) > 0  # the batch it had claimed
        # A restarted worker after the claim timeout: stale claims are requeued and sent.
        restarted = worker(pg_url, port, now + timedelta(minutes=11), tmp_path)
        out, err = restarted.communicate(timeout=300)
        assert restarted.returncode == 0, err[-500:]
    finally:
        controller.stop()
    assert len(sink.received) == count  # nobody lost
    doubled = [rcpt for rcpt, n in sink.received.items() if n > 1]
    assert len(doubled) <= 1, doubled  # at most the one in flight at the kill
    assert statuses(app) == {"sent": count}
