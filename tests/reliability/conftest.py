"""Reliability tests reuse the capture fixtures (fixture offers on SQLite and PostgreSQL)."""

from tests.capture.conftest import site  # noqa: F401
from tests.reliability.fleet import own_redis, pg_url  # noqa: F401
