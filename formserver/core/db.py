"""The database engine and sessions, stored on the app; migrations run through Alembic.

Alembic is imported only to migrate: at start-up one query of its version table tells whether
the stored schema is the code's, and only a database behind the code pays for an Alembic run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION_LINE = re.compile(r'^(down_)?revision\b[^=]*=\s*(?:"([^"]*)"|None)', re.M)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
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
    options: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if pooled:
        options = {"pool_size": 10, "max_overflow": 20}
    return create_engine(url, pool_pre_ping=True, **options)


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


@cache
def code_revision() -> str:
    """The head revision of ``migrations/versions/``, read from the files (no Alembic import).

    The one revision that no other file names as its ``down_revision``; the migration test
    checks this equals Alembic's own head.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION_LINE.findall(path.read_text()):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {sorted(heads)}")
    return heads.pop()


def stored_revision(engine: Engine) -> str | None:
    """The schema revision the database holds, None when it has no Alembic version table."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no table yet (a new database): it needs the migrations
        return None


def migrate_if_behind(engine: Engine, url: str) -> None:
    """Run Alembic only when the stored revision is not the code's head."""
    if stored_revision(engine) != code_revision():
        upgrade(url)


def init_app(app: Flask) -> None:
    """Create the engine and session factory; migrate on start when AUTO_MIGRATE is set."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, pooled=not app.testing)
    app.extensions["db"] = sessionmaker(engine, expire_on_commit=False)
    if app.config["AUTO_MIGRATE"]:
        migrate_if_behind(engine, url)
    app.teardown_appcontext(_close_session)


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched.

    ``Session.execute`` is typed to return a ``Result``, but for these statements it returns a
    ``CursorResult``, the type that has ``rowcount``.
    """
    return cast(CursorResult[Any], result).rowcount


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
