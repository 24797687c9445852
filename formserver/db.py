"""The database engine and sessions, stored on the app; migrations run through Alembic."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, pooled: bool = True) -> Engine:
    """Create an engine; SQLite files get WAL mode, foreign keys and a busy timeout.

    ``pooled=False`` (tests) closes each connection after use, so many short-lived apps
    never exhaust PostgreSQL's connection slots.
    """
    options = {} if pooled else {"poolclass": NullPool}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if pooled:
        options = {"pool_size": 10, "max_overflow": 20}
    return create_engine(url, pool_pre_ping=True, **options)


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def init_app(app: Flask) -> None:
    """Create the engine and session factory; migrate on start when AUTO_MIGRATE is set."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, pooled=not app.testing)
    app.extensions["db"] = sessionmaker(engine, expire_on_commit=False)
    if app.config["AUTO_MIGRATE"]:
        upgrade(url)
    app.teardown_appcontext(_close_session)


def engine(app: Flask | None = None) -> Engine:
    factory = (app or current_app).extensions["db"]
    return factory.kw["bind"]


def session() -> Session:
    """The request's (or app context's) session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db"]()
    return g.db_session


@contextmanager
def new_session(app: Flask | None = None) -> Iterator[Session]:
    """A session of its own, for workers and CLI commands outside a request."""
    with (app or current_app).extensions["db"]() as s:
        yield s


def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not healthy"
        logger.warning("database ping failed", exc_info=True)
        return False


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()
