"""Shared fixtures: the app on real SQLite and PostgreSQL, a real SMTP sink, real Redis."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from formserver import create_app

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("FORMSERVER_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("FORMSERVER_TEST_REDIS_URL", "")


def _require(url: str, name: str) -> None:
    """On CI a missing service fails the run; on a laptop without it the test is skipped."""
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required on CI")
        pytest.skip(f"{name} not set")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL to a private, empty schema on the test PostgreSQL, dropped afterwards."""
    _require(PG_URL, "FORMSERVER_TEST_DATABASE_URL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a private schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with pg_schema() as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    _require(REDIS_URL, "FORMSERVER_TEST_REDIS_URL")
    return REDIS_URL


class SmtpSink:
    """A real aiosmtpd server that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        self.raw.append(raw)
        self.messages.append(message_from_bytes(raw, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [
            m
            for m, (_, rcpts) in zip(self.messages, self.envelopes, strict=True)
            if address in rcpts
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    """A running SMTP sink: ``(sink, port)``."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def app_config(db_url: str, tmp_path: Path) -> dict:
    """The configuration every test app starts from; tests may add to it before ``app``."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": db_url,
        "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
        "SITE_URL": "https://www.lodestone.test",
        "PUBLIC_URL": "https://forms.lodestone.test",
        "RATELIMIT_ENABLED": False,
        "MAIL_PORT": 1,  # nothing listens: tests that send mail use the smtp fixture
    }


@pytest.fixture
def app(app_config: dict):
    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
