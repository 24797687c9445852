"""Dispatch benchmark: the worker's send path against raw smtplib, and a pass over many enrolments.

1. N due sends (default 5,000) delivered by ``drip.tick`` (claim, render Markdown + layout + inlined
   CSS, build, SMTP over one connection per batch, record) to a local aiosmtpd sink, beside a raw
   ``smtplib`` loop sending N small prebuilt messages over one connection to the same sink.
2. One scheduling pass with 100,000 active enrolments of which 1,000 are due, against one with
   1,000 enrolments all due: the cost should follow what is due, not what is stored.

Usage: ``.venv/bin/python bench/dispatch.py [--sends 5000] [--enrolments 100000]``
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from formserver import create_app
from formserver.core import db
from formserver.core.models import Enrolment, Lead, Send
from formserver.mail import dispatch
from formserver.mail.tick import tick


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_for(tmp: Path, name: str, smtp_port: int):
    return create_app(
        {
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "DATABASE_URL": f"sqlite:///{tmp / f'{name}.db'}",
            "QUEUE_URL": f"sqlite:///{tmp / f'{name}-q.db'}",
            "MAIL_PORT": smtp_port,
            "SEND_BATCH_SIZE": 500,
        }
    )


def seed(app, leads: int, due: int, now: datetime, sends: bool) -> None:
    """``leads`` leads in playbook-nurture; ``due`` of them have something due now."""
    with app.app_context(), db.new_session() as s:
        s.execute(
            insert(Lead),
            [
                {
                    "id": i,
                    "email": f"l{i}@example.com",
                    "first_name": f"L{i}",
                    "status": "active",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, leads + 1)
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
                    "last_step": 0 if sends else 1,
                    "next_due_at": None
                    if sends
                    else (now - timedelta(minutes=1) if i <= due else now + timedelta(days=3)),
                }
                for i in range(1, leads + 1)
            ],
        )
        if sends:
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
                    for i in range(1, due + 1)
                ],
            )
        s.commit()


def raw_smtplib(port: int, n: int) -> float:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "Hi"
    message.set_content("A short plain message.\n")
    data = message.as_bytes()
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(n):
            smtp.sendmail("a@example.com", ["b@example.com"], data)
    return time.perf_counter() - start


def schedule_pass(app, leads: int, due: int, now: datetime) -> float:
    seed(app, leads, due, now, sends=False)
    with app.app_context(), db.new_session() as s:
        start = time.perf_counter()
        created = dispatch.schedule_due(s, now, limit=due + 10)
        elapsed = time.perf_counter() - start
    assert created == due, created
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=5000)
    parser.add_argument("--enrolments", type=int, default=100_000)
    args = parser.parse_args()
    sink = Counter()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    now = datetime.now(UTC)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            raw = raw_smtplib(port, args.sends)
            raw_count = sink.count
            app = app_for(tmp, "sends", port)
            seed(app, args.sends, args.sends, now, sends=True)
            with app.app_context():
                start = time.perf_counter()
                totals = tick(now)
                ours = time.perf_counter() - start
            print(f"{args.sends} emails to a local aiosmtpd sink, one process, batches of 500")
            print(
                f"raw smtplib, one connection   {args.sends / raw:8.1f} emails/s "
                f"({raw_count} received)"
            )
            print(
                f"Lodestone drip tick           {args.sends / ours:8.1f} emails/s "
                f"({totals.get('sent', 0)} sent, {sink.count - raw_count} received)"
            )
            print(f"ratio (Lodestone / raw): {raw / ours:.2f}")
            big = schedule_pass(app_for(tmp, "big", port), args.enrolments, 1000, now)
            small = schedule_pass(app_for(tmp, "small", port), 1000, 1000, now)
            print(f"scheduling pass, {args.enrolments} enrolments / 1000 due: {big * 1000:7.1f} ms")
            print(f"scheduling pass, 1000 enrolments / 1000 due:   {small * 1000:7.1f} ms")
            print(f"ratio (large / small): {big / small:.2f}")
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
