"""Capture benchmark: the form server under gunicorn on SQLite beside a bare one-insert Flask app.

Both run under the same gunicorn settings on this machine, one after the other in the same run,
each driven by the same load (32 concurrent clients posting forms). Prints submissions/s, p50/p99
latency, the ratio, and counts rows afterwards to prove nothing was lost.

Usage: ``.venv/bin/python bench/capture.py [--requests 4000] [--clients 32] [--workers 4]``
With ``--postgres URL`` it also runs the form server on PostgreSQL (issue: scale benchmark).
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, port: int, env: dict[str, str], workers: int) -> subprocess.Popen:
    command = [GUNICORN, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    cwd = ROOT / ("bench" if app.startswith("bare_app") else ".")
    return loadgen.serve([*command, app], port, cwd, env)


def body(i: int) -> dict[str, str]:
    return {
        "first_name": f"Load{i}",
        "email": f"load{i}@example.com",
        "consent": "yes",
        "utm_source": "bench",
        "tz": "Europe/London",
    }


def drive(port: int, args: argparse.Namespace) -> loadgen.Result:
    loadgen.run(
        port, "/forms/playbook", body, args.clients, 200, {"Origin": "http://127.0.0.1"}
    )  # warm-up: imports, first connections
    return loadgen.run(
        port,
        "/forms/playbook",
        lambda i: body(i + 1_000_000),
        args.clients,
        args.requests,
        {"Origin": "http://127.0.0.1"},
    )


def ours(tmp: Path, port: int, db_url: str, args: argparse.Namespace) -> loadgen.Result:
    env = {
        "FORMSERVER_SECRET_KEY": "bench-secret-key-not-for-production",
        "FORMSERVER_DATABASE_URL": db_url,
        "FORMSERVER_QUEUE_URL": f"sqlite:///{tmp / f'queue-{port}.db'}",
        "FORMSERVER_RATELIMIT_ENABLED": "false",
        "FORMSERVER_ALLOWED_ORIGINS": '["http://127.0.0.1"]',
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "formserver", "db", "upgrade"],
        cwd=ROOT,
        env=os.environ | env,
        check=True,
        capture_output=True,
    )
    proc = start(
        "formserver:create_app()", port, env | {"FORMSERVER_AUTO_MIGRATE": "false"}, args.workers
    )
    try:
        return drive(port, args)
    finally:
        proc.terminate()
        proc.wait()


def count_submissions(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM submissions")).scalar_one()
    engine.dispose()
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (emptied first)")
    args = parser.parse_args()
    expected = args.requests + 200
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bare_db = tmp / "bare.db"
        port = free_port()
        proc = start("bare_app:app", port, {"BARE_DB": str(bare_db)}, args.workers)
        try:
            bare = drive(port, args)
        finally:
            proc.terminate()
            proc.wait()
        bare_rows = sqlite3.connect(bare_db).execute("SELECT count(*) FROM leads").fetchone()[0]
        sqlite_url = f"sqlite:///{tmp / 'lodestone.db'}"
        ours_sqlite = ours(tmp, free_port(), sqlite_url, args)
        rows = count_submissions(sqlite_url)
        print(
            f"{args.requests} form posts, {args.clients} clients, gunicorn -w {args.workers}, "
            f"{os.cpu_count()} cores"
        )
        print(bare.line("bare Flask + 1 insert"))
        print(ours_sqlite.line("Lodestone on SQLite"))
        print(f"ratio (Lodestone / bare): {ours_sqlite.rate / bare.rate:.2f}")
        print(f"rows: bare {bare_rows}/{expected}, Lodestone {rows}/{expected} submissions")
        if args.postgres:
            engine = create_engine(args.postgres)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS bench CASCADE"))
                conn.execute(text("CREATE SCHEMA bench"))
            engine.dispose()
            pg_url = f"{args.postgres}?options=-csearch_path%3Dbench"
            ours_pg = ours(tmp, free_port(), pg_url, args)
            print(ours_pg.line("Lodestone on PostgreSQL"))
            print(f"ratio (PostgreSQL / SQLite): {ours_pg.rate / ours_sqlite.rate:.2f}")
            print(f"rows: PostgreSQL {count_submissions(pg_url)}/{expected} submissions")
            with engine.begin() as conn:  # leave the database as we found it
                conn.execute(text("DROP SCHEMA bench CASCADE"))
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
