"""The queue side of webhooks: a Huey task per delivery attempt, and a periodic sweep."""

from __future__ import annotations

import logging
import weakref
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from huey import Huey, crontab

from formserver.core import db
from formserver.domain import webhooks

logger = logging.getLogger(__name__)

# One set of tasks per Huey instance; the app they run in is the latest that registered them.
_BOUND: weakref.WeakKeyDictionary[Huey, dict[str, Any]] = weakref.WeakKeyDictionary()


def find_huey(app: Flask) -> Huey | None:
    """The app's Huey instance (``app.extensions["huey"]``, set by ``tasks.init_app``)."""
    huey = app.extensions.get("huey")
    return huey if isinstance(huey, Huey) else None


def _bind(huey: Huey, app: Flask) -> dict[str, Any]:
    entry = _BOUND.get(huey)
    if entry is not None:
        entry["app"] = app
        return entry
    entry = {"app": app}

    def deliver_webhook(delivery_id: int, not_before: str) -> str:
        """One attempt; on failure the next one is scheduled at the row's next_attempt_at."""
        task_app: Flask = entry["app"]
        # The task may run a little before its eta (a busy clock, a test): it is due then.
        now = max(datetime.now(UTC), datetime.fromisoformat(not_before))
        with task_app.app_context():
            row = webhooks.attempt(task_app, delivery_id, now)
        if row is None:
            return "not due"
        if row.status == "pending" and row.next_attempt_at is not None:
            retry = row.next_attempt_at
            entry["deliver"].schedule(args=(delivery_id, retry.isoformat()), eta=retry)
        return row.status

    def sweep_webhooks() -> int:
        """Re-queue deliveries that are due but were never queued (or whose worker died)."""
        task_app: Flask = entry["app"]
        now = datetime.now(UTC)
        with task_app.app_context(), db.new_session(task_app) as s:
            ids = webhooks.due(s, now)
        for delivery_id in ids:
            entry["deliver"](delivery_id, now.isoformat())
        return len(ids)

    minutes = max(int(app.config["WEBHOOK_SWEEP_MINUTES"]), 1)
    entry["deliver"] = huey.task(name="admin_deliver_webhook")(deliver_webhook)
    entry["sweep"] = huey.periodic_task(
        crontab(minute=f"*/{minutes}"), name="admin_sweep_webhooks"
    )(sweep_webhooks)
    _BOUND[huey] = entry
    return entry


def init_app(app: Flask) -> None:
    """Register the webhook tasks on the app's Huey instance (tasks.init_app runs first)."""
    huey = find_huey(app)
    if huey is None:
        logger.warning("no Huey instance found: webhook deliveries wait in the database")
        return
    app.extensions["admin_webhook_tasks"] = _bind(huey, app)
