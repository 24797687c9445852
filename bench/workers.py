"""Dispatch with 3 workers against 1, on PostgreSQL (row claims) — the scale-out benchmark.

Seeds N due asset emails in a fresh PostgreSQL schema, then times one ``drip tick`` process
sending them all, and (after reseeding) three processes started together, to one aiosmtpd sink.

Usage: ``.venv/bin/python bench/workers.py --postgres postgresql+psycopg://postgres@127.0.0.1/test``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dispatch import Counter, free_port, seed  # noqa: E402

from formserver import create_app  # noqa: E402


def fresh_schema(url: str) -> str:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS bench_workers CASCADE"))
        conn.execute(text("CREATE SCHEMA bench_workers"))
    engine.dispose()
    return f"{url}?options=-csearch_path%3Dbench_workers"


def run(url: str, port: int, workers: int, sends: int, tmp: Path) -> float:
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "MAIL_PORT": port,
            "QUEUE_URL": f"sqlite:///{tmp / 'q.db'}",
        }
    )
    now = datetime.now(UTC)
    seed(app, sends, sends, now, sends=True)
    env = os.environ | {
        "FORMSERVER_DATABASE_URL": url,
        "FORMSERVER_MAIL_PORT": str(port),
        "FORMSERVER_SECRET_KEY": "bench",
        "FORMSERVER_AUTO_MIGRATE": "false",
        "FORMSERVER_QUEUE_URL": f"sqlite:///{tmp / 'q.db'}",
        "FORMSERVER_SEND_BATCH_SIZE": "100",
    }
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "formserver",
                "drip",
                "tick",
                "--now",
                now.isoformat(),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    for p in procs:
        p.wait()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--sends", type=int, default=5000)
    args = parser.parse_args()
    sink = Counter()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            one = run(fresh_schema(args.postgres), port, 1, args.sends, Path(tmp))
            three = run(fresh_schema(args.postgres), port, 3, args.sends, Path(tmp))
    finally:
        controller.stop()
    print(
        f"{args.sends} due emails on PostgreSQL, {os.cpu_count()} cores, "
        f"{sink.count} received in all"
    )
    print(f"1 worker   {args.sends / one:7.1f} emails/s")
    print(f"3 workers  {args.sends / three:7.1f} emails/s   ratio {one / three:.2f}x one worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
