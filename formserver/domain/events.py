"""The calls other modules make when something happens to a lead: tags, score, webhooks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from formserver.content.offers import Offer
from formserver.core.models import Lead
from formserver.domain import scoring, tags, webhooks
from formserver.domain.activity import Activity

logger = logging.getLogger(__name__)

# Event kinds that outgoing webhooks hear about, by webhook event name.
WEBHOOK_EVENTS = {
    "confirmed": "lead.confirmed",
    "unsubscribed": "lead.unsubscribed",
    "converted": "lead.converted",
}


def on_submission(
    s: Session,
    lead: Lead,
    offer: Offer,
    fields: Mapping[str, Any],
    created: bool,
    now: datetime,
) -> list[int]:
    """After capture stored a submission: tag, score, and owe "lead.created" if the lead is new.

    Call inside the capture transaction; pass the returned ids to
    webhooks.queue_deliveries() after the commit.
    """
    added = tags.tag_submission(s, lead, offer, fields, now, fresh=created)
    if not created:
        scoring.apply_event(s, lead, "submitted", now)
        return []
    # A lead born in this transaction has done exactly this: no need to read its history.
    history = [Activity("submitted", now)] + [Activity("tagged", now)] * len(added)
    lead.score = scoring.breakdown(history, now).total
    return webhooks.emit(s, "lead.created", lead, now, {"offer": offer.id})


def on_event(
    s: Session, lead: Lead, kind: str, now: datetime, data: Mapping[str, Any] | None = None
) -> list[int]:
    """After an Event of ``kind`` was added for ``lead``: rescore, and owe its webhook if any."""
    scoring.apply_event(s, lead, kind, now)
    name = WEBHOOK_EVENTS.get(kind)
    return webhooks.emit(s, name, lead, now, dict(data or {})) if name else []
