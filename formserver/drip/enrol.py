"""Enrolling a lead in an offer's series, inside the caller's capture transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from formserver.models import Enrolment, Lead, Send
from formserver.offers import Offer


def enrol_lead(session: Session, lead: Lead, offer: Offer, now: datetime) -> list[Send]:
    """Enrol ``lead`` once in ``offer.series``; return the Send rows to queue after commit.

    A lead already in the series is not enrolled again. With double opt-in and an
    unconfirmed lead the enrolment waits and a confirmation email is due instead.
    """
    existing = session.scalar(
        select(Enrolment).where(Enrolment.lead_id == lead.id, Enrolment.series == offer.series)
    )
    if existing is not None or lead.status in ("unsubscribed", "bounced"):
        return []
    pending = offer.double_optin and lead.confirmed_at is None
    enrolment = Enrolment(
        lead_id=lead.id,
        offer_id=offer.id,
        series=offer.series,
        status="pending" if pending else "active",
        enrolled_at=now,
        started_at=None if pending else now,
        last_step=-1 if pending else 0,
    )
    session.add(enrolment)
    session.flush()
    send = Send(
        lead_id=lead.id,
        enrolment_id=None if pending else enrolment.id,
        offer_id=offer.id,
        series=offer.series,
        kind="confirm" if pending else "step",
        step=None if pending else 0,
        due_at=now,
    )
    session.add(send)
    session.flush()
    return [send]
