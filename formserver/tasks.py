"""The Huey queue: SqliteHuey by default, RedisHuey for ``redis://``; it only runs the work."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab
from redis import ConnectionPool

logger = logging.getLogger(__name__)


def make_huey(url: str, name: str = "lodestone") -> Huey:
    """A Huey instance for ``sqlite:///path`` or ``redis://host:port/db``."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return SqliteHuey(name, filename=url.removeprefix("sqlite:///"), fsync=False)
    if parts.scheme in ("redis", "rediss"):
        # A Redis that hangs delays a form post by seconds, not for ever. The read timeout stays
        # above the consumer's own 1 s blocking read; timeouts in the URL's query win.
        pool = ConnectionPool.from_url(url, socket_connect_timeout=1, socket_timeout=3)
        return RedisHuey(name, connection_pool=pool)
    raise ValueError(f"QUEUE_URL must be sqlite:///path or redis://..., not {url!r}")


def init_app(app: Flask) -> None:
    """Build the queue from QUEUE_URL and register the send task and the periodic sweep."""
    huey = make_huey(app.config["QUEUE_URL"])

    @huey.task(name="send")
    def send(send_id: int) -> dict[str, int]:
        from formserver.mail.tick import tick

        with app.app_context():
            return tick(datetime.now(UTC), send_ids=[send_id])

    @huey.periodic_task(crontab(minute="*"), name="dispatch")
    def dispatch() -> dict[str, int]:
        """Every minute: find anything due that never reached the queue, and send it."""
        from formserver.mail.tick import tick

        with app.app_context():
            totals = tick(datetime.now(UTC))
        if any(totals.values()):
            logger.info("dispatch: %s", totals)
        return totals

    app.extensions["huey"] = huey
    app.extensions["huey_tasks"] = {"send": send, "dispatch": dispatch}
