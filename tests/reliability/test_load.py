"""A campaign goes viral: 4,000 submissions from 64 concurrent clients, all stored, no 5xx.

Production mode as docs/deploy.md sets it up: gunicorn (4 workers × 4 threads) behind a proxy
(X-Forwarded-For trusted once), PostgreSQL, Redis for the queue and the rate-limit counters.

Right-sized from 20,000 (200 s of the suite) to 4,000 at the same concurrency: 64 clients on 16
server threads keep every thread busy and a backlog queued for the whole run, and each gunicorn
worker still serves ~1,000 requests, over 30 times its 30 pooled connections, so a connection,
session or counter leaked per request still runs the pool dry and fails the run.
``LOAD_SUBMISSIONS=20000`` repeats the figure in docs/performance.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from bench import loadgen
from formserver.core.models import Consent, Lead, Send, Submission
from tests.conftest import ROOT, free_port
from tests.reliability.fleet import RedisServer

pytestmark = pytest.mark.slow(seconds=60)
SUBMISSIONS = int(os.environ.get("LOAD_SUBMISSIONS", "4000"))
CLIENTS = 64
ORIGIN = "https://www.lodestone.test"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def visitor(i: int) -> dict[str, str]:
    return {
        "first_name": f"Visitor{i}",
        "email": f"visitor{i}@example.com",
        "consent": "yes",
        "utm_source": "viral",
        "tz": "America/New_York",
    }


def from_own_address(i: int) -> dict[str, str]:
    """Each visitor comes from an address of their own, as nginx reports it."""
    return {"X-Forwarded-For": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"}


def test_viral_load_every_submission_stored_no_5xx(pg_url, own_redis: RedisServer, tmp_path):
    env = {
        "FORMSERVER_SECRET_KEY": "load-test-secret-key-not-for-production",
        "FORMSERVER_DATABASE_URL": pg_url,
        "FORMSERVER_QUEUE_URL": own_redis.url,
        "FORMSERVER_RATELIMIT_STORAGE_URI": own_redis.url.removesuffix("/0") + "/1",
        "FORMSERVER_PROXY_FIX_X_FOR": "1",
        "FORMSERVER_SITE_URL": ORIGIN,
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "formserver", "db", "upgrade"],
        cwd=ROOT,
        env=os.environ | env,
        check=True,
        capture_output=True,
    )
    log = tmp_path / "gunicorn.log"
    port = free_port()
    command = [GUNICORN, "--workers", "4", "--threads", "4", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as errors:
        server = loadgen.serve(
            [*command, "formserver:create_app()"],
            port,
            ROOT,
            env | {"FORMSERVER_AUTO_MIGRATE": "false"},
            errors,
        )
    try:
        result = loadgen.run(
            port,
            "/forms/playbook",
            visitor,
            CLIENTS,
            SUBMISSIONS,
            {"Origin": ORIGIN},
            from_own_address,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(result.line(f"{SUBMISSIONS} submissions"))  # shown with pytest -s
    assert result.statuses == {303: SUBMISSIONS}  # no 5xx, no 429, no dropped connection
    assert "Traceback" not in log.read_text()
    engine = create_engine(pg_url)
    with engine.connect() as conn:

        def count(table) -> int:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

        stored = [count(x) for x in (Lead, Submission, Consent, Send)]
        emails = set(conn.scalars(select(Lead.email)))
    engine.dispose()
    assert stored == [SUBMISSIONS] * 4  # each with its consent and its asset email due
    assert emails == {visitor(i)["email"] for i in range(SUBMISSIONS)}
