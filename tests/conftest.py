"""Shared fixtures: the app on real SQLite and PostgreSQL, a real SMTP sink, real Redis.

Each test's database holds the migrated schema without running Alembic: a copy of a file migrated
once per session on SQLite, a private schema where the recorded migration is replayed on
PostgreSQL; the migrated schema is checked against the models first.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from formserver import create_app
from tests.databases import (
    EMPTY_DATABASE,
    ONE_BACKEND,
    PG_URL,
    Statement,
    migrate_and_record,
    no_sql_on,
    pg_copy,
)

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("FORMSERVER_TEST_REDIS_URL", "")

# Long tests outside tests/reliability (whose long ones carry the ``slow`` marker), started first
# so that the two xdist workers finish together.
LONG = ("tests/tooling/test_tooling.py::test_spam_scores_come_from_spamassassin",)


def _require(url: str, name: str) -> None:
    """On CI a missing service fails the run; on a laptop without it the test is skipped."""
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required on CI")
        pytest.skip(f"{name} not set")


def _test_name(node: pytest.Item | pytest.Function) -> str:
    return node.nodeid.split("[")[0]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``db_url`` over both backends; PostgreSQL runs carry the ``postgresql`` mark."""
    if "db_url" not in metafunc.fixturenames:
        return
    backends = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
    if _test_name(metafunc.definition) in ONE_BACKEND:
        backends = backends[:1]
    metafunc.parametrize("db_url", backends, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests first, so no worker starts one at the end; browser tests share one worker."""

    def weight(item: pytest.Item) -> float:
        mark = item.get_closest_marker("slow")
        if mark is not None:
            return mark.kwargs.get("seconds", 1)
        if _test_name(item) in LONG:
            return 1
        return 0.5 if item.nodeid.startswith("tests/e2e/") else 0  # ~15 s as one unit of work

    items.sort(key=weight, reverse=True)  # stable: the rest keep their order
    for item in items:
        if item.nodeid.startswith("tests/e2e/"):
            # One Pelican build and one Chromium per run, not per worker (``--dist loadgroup``).
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def _pg_admin() -> Iterator[Engine]:
    """One connection to the test server, to create, fill and drop schemas."""
    _require(PG_URL, "FORMSERVER_TEST_DATABASE_URL")
    admin = create_engine(PG_URL, pool_size=1)
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per session (per xdist worker), copied for each test."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.db"
    url = f"sqlite:///{path}"
    migrate_and_record(url)
    return path


@pytest.fixture(scope="session")
def _pg_migration(_pg_admin: Engine) -> Iterator[list[Statement]]:
    """The statements that migrate an empty PostgreSQL schema, recorded once per session."""
    with pg_copy(_pg_admin, None) as url:
        yield migrate_and_record(url)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL to a private, empty schema on the test PostgreSQL, dropped afterwards."""
    _require(PG_URL, "FORMSERVER_TEST_DATABASE_URL")
    admin = create_engine(PG_URL, poolclass=NullPool)
    try:
        with pg_copy(admin, None) as url:
            yield url
    finally:
        admin.dispose()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own holding the migrated schema (empty for EMPTY_DATABASE)."""
    test = _test_name(request.node)
    empty = test in EMPTY_DATABASE
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        if not empty:
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        if test in ONE_BACKEND:
            with no_sql_on(str(path), test):
                yield f"sqlite:///{path}"
            return
        yield f"sqlite:///{path}"
        return
    migration = None if empty else request.getfixturevalue("_pg_migration")
    with pg_copy(request.getfixturevalue("_pg_admin"), migration) as url:
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
