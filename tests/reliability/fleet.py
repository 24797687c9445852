"""Shared by the reliability tests: a private Redis, a PostgreSQL schema, worker processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import func, insert, select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Enrolment, Lead, Send
from tests.conftest import ROOT, free_port, pg_schema


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Row claims across processes are a PostgreSQL feature (SQLite: see docs/deploy.md)."""
    with pg_schema() as url:
        yield url  # the app each test creates migrates it


def app_for(pg_url: str, smtp_port: int, tmp_path: Path) -> Flask:
    """The app the test itself uses to seed and inspect the database the workers share."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "reliability-test-secret-key-not-for-production",
            "DATABASE_URL": pg_url,
            "QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}",
            "MAIL_PORT": smtp_port,
        }
    )


def seed(app, count: int, now: datetime) -> None:
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


def worker(url: str, port: int, when: datetime, tmp_path) -> subprocess.Popen:
    env = os.environ | {
        "FORMSERVER_DATABASE_URL": url,
        "FORMSERVER_MAIL_PORT": str(port),
        "FORMSERVER_SECRET_KEY": "reliability-test-secret-key-not-for-production",
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


def statuses(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session().execute(select(Send.status, func.count()).group_by(Send.status))
        return dict(rows.all())


class RedisServer:
    """A private redis-server of our own, so stopping it disturbs no other test."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is required (it runs on this machine kind)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
