"""Redis (the queue) down while visitors submit: every lead stored, every email sent after."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from formserver import create_app, db
from formserver.models import Lead, Submission
from tests.capture.conftest import ORIGIN
from tests.conftest import free_port


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


def test_submissions_survive_a_queue_outage_and_the_sweep_sends_them(
    app_config, own_redis, smtp, site
) -> None:  # noqa: ANN001
    sink, port = smtp
    app = create_app(
        app_config
        | {
            "QUEUE_URL": own_redis.url,
            "MAIL_PORT": port,
            "CONTENT_PATH": str(site / "content"),
            "ASSETS_PATH": str(site / "assets"),
        }
    )
    client = app.test_client()
    own_redis.stop()
    for i in range(20):
        response = client.post(
            "/forms/guide",
            headers={"Origin": ORIGIN},
            data={"email": f"v{i}@example.com", "first_name": "V", "consent": "yes"},
        )
        assert response.status_code == 303  # the visitor never sees the outage
    with app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(Lead)) == 20
        assert s.scalar(select(func.count()).select_from(Submission)) == 20
    assert sink.messages == []  # nothing could be queued
    own_redis.start()
    app.extensions["huey_tasks"]["dispatch"].call_local()  # the worker's periodic sweep
    assert sorted(rcpt[0] for _, rcpt in sink.envelopes) == sorted(
        f"v{i}@example.com" for i in range(20)
    )
