"""Everything that happened to one lead, read from the tables that are the truth for each kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formserver.core.models import Download, Event, Send, Submission

# These kinds have a table of their own; an Event row of the same kind would count twice.
TABLE_KINDS = frozenset({"submitted", "downloaded", "sent"})


@dataclass(frozen=True)
class Activity:
    """One line of a lead's timeline."""

    kind: str
    at: datetime
    offer_id: str = ""
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _event_detail(event: Event) -> str:
    data = event.data or {}
    for key in ("url", "tag", "reason", "series"):
        if data.get(key):
            return str(data[key])
    if "value" in data:
        return f"value {data['value']}"
    return ""


def lead_activities(s: Session, lead_id: int) -> list[Activity]:
    """The lead's activities, oldest first."""
    items: list[Activity] = []
    for sub in s.scalars(select(Submission).where(Submission.lead_id == lead_id)):
        source = " / ".join(v for v in (sub.utm_source, sub.utm_medium, sub.utm_campaign) if v)
        items.append(Activity("submitted", sub.created_at, sub.offer_id, source))
    for dl in s.scalars(select(Download).where(Download.lead_id == lead_id)):
        items.append(Activity("downloaded", dl.created_at, dl.offer_id))
    sent = select(Send).where(Send.lead_id == lead_id, Send.sent_at.is_not(None))
    for send in s.scalars(sent):
        assert send.sent_at is not None  # the query's filter: only sends that went out
        what = send.subject or (f"{send.series} step {send.step}" if send.series else send.kind)
        items.append(Activity("sent", send.sent_at, send.offer_id, what, {"send_id": send.id}))
    events = select(Event).where(Event.lead_id == lead_id, Event.kind.not_in(TABLE_KINDS))
    for event in s.scalars(events):
        items.append(
            Activity(event.kind, event.created_at, event.offer_id, _event_detail(event), event.data)
        )
    items.sort(key=lambda a: a.at)
    return items
