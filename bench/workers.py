"""Dispatch with 3 workers against 1, on Redis + PostgreSQL — the scale-out benchmark.

Seeds N due asset emails in a fresh PostgreSQL schema, then times one worker sending them all
and, after reseeding, three started together, to one aiosmtpd sink, in two ways:

- **queue**: production mode. ``flask worker`` processes (Huey consumers, 2 threads each) on a
  private ``redis-server``, started and idle; the clock starts as the N "send" tasks are enqueued,
  as capture enqueues them after each commit, and stops when the sink has received all N.
- **sweep**: ``flask drip tick`` processes started together, each claiming batches of due rows
  (``FOR UPDATE SKIP LOCKED``), as the periodic dispatch sweep does.

Usage: ``.venv/bin/python bench/workers.py --postgres postgresql+psycopg://postgres@127.0.0.1/test
[--sends 5000] [--mode queue|sweep|both]``
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dispatch import Counter, free_port, seed

from formserver import create_app
from formserver.core import db
from formserver.core.models import Send
from formserver.mail.tick import queue_sends
from tests.reliability.fleet import RedisServer

READY = "consumer started"  # what a Huey consumer logs once it takes tasks


def fresh_schema(url: str) -> str:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS bench_workers CASCADE"))
        conn.execute(text("CREATE SCHEMA bench_workers"))
    engine.dispose()
    return f"{url}?options=-csearch_path%3Dbench_workers"


def environment(url: str, port: int, queue_url: str) -> dict[str, str]:
    return os.environ | {
        "FORMSERVER_DATABASE_URL": url,
        "FORMSERVER_MAIL_PORT": str(port),
        "FORMSERVER_SECRET_KEY": "bench-secret-key-not-for-production",
        "FORMSERVER_AUTO_MIGRATE": "false",
        "FORMSERVER_QUEUE_URL": queue_url,
        "FORMSERVER_SEND_BATCH_SIZE": "100",
    }


def migrated_app(url: str, port: int, queue_url: str) -> Flask:
    return create_app(
        {
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "DATABASE_URL": url,
            "MAIL_PORT": port,
            "QUEUE_URL": queue_url,
        }
    )


def seed_due(app: Flask, sends: int) -> datetime:
    """``sends`` asset emails due now; returns that now."""
    now = datetime.now(UTC)
    seed(app, sends, sends, now, sends=True)
    return now


def sweep(url: str, port: int, workers: int, sends: int, tmp: Path) -> float:
    """Seconds for ``workers`` ``drip tick`` processes, started together, to send everything."""
    queue_url = f"sqlite:///{tmp / 'q.db'}"
    now = seed_due(migrated_app(url, port, queue_url), sends)
    command = [sys.executable, "-m", "flask", "--app", "formserver", "drip", "tick"]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*command, "--now", now.isoformat()],
            cwd=ROOT,
            env=environment(url, port, queue_url),
            stdout=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    for p in procs:
        p.wait()
    return time.perf_counter() - start


def queued(url: str, port: int, workers: int, sends: int, tmp: Path, sink: Counter) -> float:
    """Seconds from enqueueing ``sends`` tasks to their delivery by ``workers`` Huey consumers."""
    redis_server = RedisServer(tmp)
    redis_server.start()
    procs: list[subprocess.Popen] = []
    try:
        app = migrated_app(url, port, redis_server.url)
        logs = [tmp / f"worker-{n}.log" for n in range(workers)]
        for log in logs:
            with log.open("w") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "formserver", "worker"],
                        cwd=ROOT,
                        env=environment(url, port, redis_server.url),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + 60
        while not all(READY in log.read_text() for log in logs):
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start: " + logs[0].read_text()[-500:])
            time.sleep(0.05)
        # Seeded only now: a consumer's periodic sweep may send some of them before the tasks
        # arrive, as in production, but never before the count starts.
        target = sink.count + sends
        seed_due(app, sends)
        start = time.perf_counter()
        with app.app_context():
            queue_sends(range(1, sends + 1))
        while sink.count < target:
            if time.perf_counter() - start > 600:
                raise RuntimeError(f"only {sink.count - target + sends} of {sends} delivered")
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        with app.app_context(), db.new_session() as s:
            sent = s.scalar(select(func.count()).where(Send.status == "sent"))
        if sent != sends or sink.count != target:
            raise RuntimeError(f"{sent} rows sent, {sink.count - target + sends} received")
        return elapsed
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)  # Huey's graceful stop: finish the task in hand
        for p in procs:
            p.wait(timeout=60)
        redis_server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--sends", type=int, default=5000)
    parser.add_argument("--mode", choices=("queue", "sweep", "both"), default="both")
    args = parser.parse_args()
    sink = Counter()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    results: dict[str, tuple[float, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for mode in ("queue", "sweep") if args.mode == "both" else (args.mode,):
                timings = []
                for workers in (1, 3):
                    url = fresh_schema(args.postgres)
                    if mode == "queue":
                        timings.append(queued(url, port, workers, args.sends, Path(tmp), sink))
                    else:
                        timings.append(sweep(url, port, workers, args.sends, Path(tmp)))
                results[mode] = (timings[0], timings[1])
    finally:
        controller.stop()
        engine = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:  # leave the database as we found it
            conn.execute(text("DROP SCHEMA IF EXISTS bench_workers CASCADE"))
        engine.dispose()
    print(
        f"{args.sends} due emails on PostgreSQL, {os.cpu_count()} cores, "
        f"{sink.count} received in all"
    )
    labels = {
        "queue": "flask worker on Redis (a task per email)",
        "sweep": "drip tick sweep (batches of 100)",
    }
    for mode, (one, three) in results.items():
        print(
            f"{labels[mode]:42s} 1 worker {args.sends / one:6.1f} emails/s   "
            f"3 workers {args.sends / three:6.1f} emails/s   ratio {one / three:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
