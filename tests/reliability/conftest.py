"""Reliability tests reuse the capture fixtures (fixture offers on SQLite and PostgreSQL)."""

from tests.capture.conftest import site  # noqa: F401
