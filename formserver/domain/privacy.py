"""A lead's rights: a copy of everything we hold (JSON), and erasure that keeps anonymous counts."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from formserver.core.models import (
    Consent,
    Download,
    Enrolment,
    Event,
    Lead,
    LeadTag,
    Send,
    Submission,
    WebhookDelivery,
)
from formserver.core.urls import host

logger = logging.getLogger(__name__)

FORGOTTEN = "forgotten"
# Event data that says nothing about the person, kept so reports still add up.
ANONYMOUS_EVENT_KEYS = frozenset({"send_id", "step", "series", "value"})


def _columns(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def export_lead(s: Session, lead: Lead, now: datetime) -> dict[str, Any]:
    """Everything stored about ``lead``, as plain data ready for JSON."""

    def rows(model: Any, *names: str) -> list[dict[str, Any]]:
        stmt = select(model).where(model.lead_id == lead.id).order_by(model.id)
        return [_columns(row, names) for row in s.scalars(stmt)]

    lead_fields = (
        "id email first_name last_name company attributes time_zone status score "
        "created_at updated_at confirmed_at unsubscribed_at bounced_at"
    ).split()
    return {
        "exported_at": now,
        "lead": _columns(lead, tuple(lead_fields)),
        "tags": [t.tag for t in s.scalars(select(LeadTag).where(LeadTag.lead_id == lead.id))],
        "submissions": rows(
            Submission,
            *"offer_id fields utm_source utm_medium utm_campaign utm_term utm_content".split(),
            *"referrer time_zone user_agent ip created_at".split(),
        ),
        "consents": rows(Consent, "offer_id", "wording", "version", "given_at", "confirmed_at"),
        "downloads": rows(Download, "offer_id", "created_at"),
        "enrolments": rows(
            Enrolment, "offer_id", "series", "status", "enrolled_at", "last_step", "next_due_at"
        ),
        "emails": rows(Send, "kind", "series", "step", "subject", "status", "due_at", "sent_at"),
        "events": rows(Event, "kind", "offer_id", "data", "created_at"),
        "webhook_deliveries": rows(WebhookDelivery, "event", "url", "status", "created_at"),
    }


def to_json(data: dict[str, Any]) -> str:
    def default(value: Any) -> str:
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value)

    return json.dumps(data, indent=2, ensure_ascii=False, default=default)


def forget_lead(s: Session, lead: Lead, now: datetime) -> None:
    """Erase ``lead``'s personal data in place; anonymous rows stay so funnel counts don't move.

    The lead row keeps its id and dates under a placeholder address; submissions keep offer,
    date, UTM source/medium/campaign and the referrer's host; consents keep their wording and
    version; sends, downloads and events keep kind and date. Tags and webhook deliveries
    (whose bodies hold the address) are deleted. Mail still due is cancelled.
    """
    lead_id = lead.id
    for sub in s.scalars(select(Submission).where(Submission.lead_id == lead_id)):
        sub.fields = {}
        sub.referrer = host(sub.referrer)
        sub.utm_term = sub.utm_content = ""
        sub.user_agent = sub.time_zone = ""
        sub.ip = None
    for event in s.scalars(select(Event).where(Event.lead_id == lead_id)):
        data = event.data or {}
        event.data = {k: v for k, v in data.items() if k in ANONYMOUS_EVENT_KEYS}
    s.execute(
        update(Send)
        .where(Send.lead_id == lead_id, Send.status.in_(("queued", "sending")))
        .values(status="cancelled")
    )
    s.execute(
        update(Send).where(Send.lead_id == lead_id).values(subject="", last_error="", message_id="")
    )
    s.execute(
        update(Enrolment)
        .where(Enrolment.lead_id == lead_id, Enrolment.status.in_(("pending", "active")))
        .values(status="stopped", stop_reason=FORGOTTEN, stopped_at=now, next_due_at=None)
    )
    s.execute(delete(LeadTag).where(LeadTag.lead_id == lead_id))
    s.execute(delete(WebhookDelivery).where(WebhookDelivery.lead_id == lead_id))
    lead.email = f"forgotten-{lead_id}"
    lead.first_name = lead.last_name = lead.company = lead.time_zone = ""
    lead.attributes = {}
    lead.status = FORGOTTEN
    lead.score = 0
    s.flush()
    logger.info("forgot lead %s", lead_id)
