"""Sends that fail alone: attempts and back-off, quarantine of a poison send, and a retry."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from formserver.core import db
from formserver.core.models import Lead, Send

logger = logging.getLogger(__name__)

# Statuses no pass picks up again: the dashboard lists them, and a person decides.
STUCK = ("quarantined", "failed")


def _back_off(send: Send, now: datetime) -> None:
    """Queue ``send`` again later, so a send that keeps failing never sits at the queue's head."""
    send.status = "queued"
    base = current_app.config["SEND_RETRY_BASE"]
    send.due_at = now + timedelta(seconds=base * 2 ** (send.attempts - 1))


def spend_attempt(send: Send, now: datetime, error: str) -> str:
    """A temporary failure: retry with back-off, 'failed' after ``SEND_MAX_ATTEMPTS``."""
    send.attempts += 1
    send.last_error = error[:2000]
    if send.attempts >= current_app.config["SEND_MAX_ATTEMPTS"]:
        send.status = "failed"
        logger.error("send %s failed for good after %s attempts: %s", send.id, send.attempts, error)
        return "failed"
    _back_off(send, now)
    return "retry"


def poisoned(send: Send, now: datetime, error: Exception) -> str:
    """An error nothing anticipated (a bug, an odd stored value): quarantined after N tries."""
    send.attempts += 1
    send.last_error = f"{type(error).__name__}: {error}"[:2000]
    if send.attempts >= current_app.config["SEND_QUARANTINE_AFTER"]:
        send.status = "quarantined"
        logger.error(
            "send %s quarantined after %s attempts", send.id, send.attempts, exc_info=error
        )
        return "quarantined"
    logger.error("send %s raised; it will be retried alone", send.id, exc_info=error)
    _back_off(send, now)
    return "retry"


def undeliverable(send: Send, error: str) -> str:
    """The relay cannot carry this address: no retry would help, and the lead is not bounced."""
    send.attempts += 1
    send.last_error = error[:2000]
    send.status = "failed"
    logger.warning("send %s not sent: %s", send.id, error)
    return "failed"


def stuck_sends(s: Session, status: str = "", limit: int = 200) -> list[tuple[Send, Lead]]:
    """The newest quarantined and failed sends with their leads, for the dashboard."""
    statuses = (status,) if status in STUCK else STUCK
    query = (
        select(Send, Lead)
        .join(Lead, Lead.id == Send.lead_id)
        .where(Send.status.in_(statuses))
        .order_by(Send.id.desc())
        .limit(limit)
    )
    return [(send, lead) for send, lead in s.execute(query)]


def retry_now(s: Session, send_id: int, now: datetime) -> bool:
    """Queue a quarantined or failed send again, with fresh attempts; False if it is not stuck."""
    result = s.execute(
        update(Send)
        .where(Send.id == send_id, Send.status.in_(STUCK))
        .values(status="queued", attempts=0, due_at=now, claimed_at=None)
    )
    return db.rowcount(result) == 1
