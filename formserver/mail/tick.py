"""Drip series: Markdown emails sent on a schedule kept in SQL rows, run by the queue."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app

logger = logging.getLogger(__name__)


def queue_sends(send_ids: Iterable[int]) -> None:
    """Hand committed sends to the queue now; the periodic sweep catches any that fail here."""
    ids = list(send_ids)
    if not ids:
        return
    task = current_app.extensions["huey_tasks"]["send"]
    for send_id in ids:
        task(send_id)


def purge_unconfirmed(now: datetime) -> int:
    """Delete leads that never confirmed within UNCONFIRMED_RETENTION_DAYS (GDPR minimisation)."""
    from sqlalchemy import delete, select  # the package is imported by lint too: SQL waits

    from formserver.core import db
    from formserver.core.models import Lead

    cutoff = now - timedelta(days=current_app.config["UNCONFIRMED_RETENTION_DAYS"])
    with db.new_session() as s:
        ids = list(
            s.scalars(select(Lead.id).where(Lead.status == "unconfirmed", Lead.created_at < cutoff))
        )
        if ids:
            s.execute(delete(Lead).where(Lead.id.in_(ids)))
            s.commit()
    return len(ids)


def tick(now: datetime, send_ids: list[int] | None = None) -> dict[str, int]:
    """One pass: requeue stale claims, schedule due steps, claim and send what is due.

    With ``send_ids`` (the queue's "send now" task) only those sends are claimed and sent.
    Every claim is stamped with ``now``; the pass stops sending halfway to ``STALE_CLAIM`` after
    it, so no other worker's sweep ever re-queues a row this pass may still send.
    """
    from formserver.core import db
    from formserver.mail import dispatch

    deadline = time.monotonic() + dispatch.STALE_CLAIM.total_seconds() / 2
    batch = current_app.config["SEND_BATCH_SIZE"]
    totals = {"scheduled": 0, "purged": 0}
    if send_ids is None:  # the sweep; a task for given sends only sends them
        with db.new_session() as s:
            dispatch.requeue_stale(s, now)
            totals["scheduled"] = dispatch.schedule_due(s, now)
        totals["purged"] = purge_unconfirmed(now)
    while time.monotonic() < deadline:
        with db.new_session() as s:
            claimed = dispatch.claim(s, now, batch, send_ids)
        if not claimed:
            break
        counts = dispatch.deliver(claimed, now, deadline)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if send_ids is not None or counts["deferred"]:  # the server is down: try next pass
            break
    return totals
