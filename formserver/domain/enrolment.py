"""Enrolling a lead in an offer's series, inside the caller's capture transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from formserver.content.offers import Offer
from formserver.content.series import get_series
from formserver.core.models import Enrolment, Lead, Send

CONFIRM_RESEND_AFTER = timedelta(hours=1)


def _confirm_again(session: Session, lead: Lead, offer: Offer, now: datetime) -> list[Send]:
    """A still-unconfirmed lead who asks again gets the confirmation again, at most hourly."""
    last = session.scalar(
        select(Send.due_at)
        .where(Send.lead_id == lead.id, Send.kind == "confirm")
        .order_by(Send.due_at.desc())
        .limit(1)
    )
    if last is not None and now - last < CONFIRM_RESEND_AFTER:
        return []
    send = Send(lead_id=lead.id, offer_id=offer.id, series=offer.series, kind="confirm", due_at=now)
    session.add(send)
    return [send]


def enrol_lead(
    session: Session, lead: Lead, offer: Offer, now: datetime, new_lead: bool = False
) -> list[Send]:
    """Enrol ``lead`` in ``offer.series``; return the Send rows (flush for their ids) to queue.

    A lead is in a series once, unless series.toml says ``reenrol = true`` and their last
    enrolment has ended. With double opt-in and an unconfirmed lead the enrolment waits and a
    confirmation email is due instead. Unsubscribed and bounced leads are not enrolled.
    ``new_lead``: created in this transaction, so it has no enrolment to look up.
    """
    if lead.status in ("unsubscribed", "bounced"):
        return []
    existing = None
    if not new_lead:
        existing = session.scalar(
            select(Enrolment)
            .where(Enrolment.lead_id == lead.id, Enrolment.series == offer.series)
            .order_by(Enrolment.cycle.desc())
            .limit(1)
        )
    cycle = 0
    if existing is not None:
        if existing.status == "pending":
            return _confirm_again(session, lead, offer, now)
        series = get_series(Path(current_app.config["CONTENT_PATH"]) / "emails", offer.series)
        if not series.reenrol or existing.status == "active":
            return []
        cycle = existing.cycle + 1
    pending = offer.double_optin and lead.confirmed_at is None
    enrolment = Enrolment(
        lead_id=lead.id,
        offer_id=offer.id,
        series=offer.series,
        cycle=cycle,
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
    return [send]
