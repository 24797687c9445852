"""Storing a valid submission: lead, submission, consent, event and enrolment in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from formserver.content.offers import Offer
from formserver.core.models import Consent, Event, Lead, Submission
from formserver.domain.enrolment import enrol_lead

logger = logging.getLogger(__name__)
# Columns on Lead; every other offer field lands in Lead.attributes.
LEAD_COLUMNS = ("first_name", "last_name", "company")


@dataclass(frozen=True)
class SubmissionMeta:
    """What we know about the request besides the fields: attribution and client facts."""

    utm: Mapping[str, str]
    referrer: str
    time_zone: str
    user_agent: str
    ip: str | None


@dataclass
class Captured:
    """The outcome of one stored submission, with the work to hand to the queue after commit."""

    lead_id: int
    confirmed: bool  # the address was confirmed through a double opt-in
    created: bool
    send_ids: list[int] = field(default_factory=list)
    webhook_ids: list[int] = field(default_factory=list)


def _apply_fields(lead: Lead, values: Mapping[str, str], time_zone: str) -> None:
    """Newest non-empty values win; an empty optional field never blanks what we knew."""
    attributes = dict(lead.attributes or {})
    for name, value in values.items():
        if name == "email" or not value:
            continue
        if name in LEAD_COLUMNS:
            setattr(lead, name, value)
        else:
            attributes[name] = value
    lead.attributes = attributes
    if time_zone:
        lead.time_zone = time_zone


def _lead(s: Session, email: str, offer: Offer, now: datetime) -> tuple[Lead, bool]:
    lead = s.scalar(select(Lead).where(Lead.email == email))
    if lead is not None:
        if lead.status == "unconfirmed" and not offer.double_optin:
            lead.status = "active"  # a form without double opt-in is consent on its own
        return lead, False
    status = "unconfirmed" if offer.double_optin else "active"
    lead = Lead(email=email, status=status, created_at=now, updated_at=now, attributes={})
    s.add(lead)
    s.flush()  # a concurrent first submission for this email fails here: see store()
    return lead, True


def _store_once(
    s: Session, offer: Offer, values: Mapping[str, str], meta: SubmissionMeta, now: datetime
) -> Captured:
    lead, created = _lead(s, values["email"], offer, now)
    _apply_fields(lead, values, meta.time_zone)
    submission = Submission(
        lead_id=lead.id,
        offer_id=offer.id,
        fields=dict(values),
        referrer=meta.referrer[:2000],
        time_zone=meta.time_zone,
        user_agent=meta.user_agent[:500],
        ip=meta.ip,
        created_at=now,
        **{k: v[:200] for k, v in meta.utm.items()},
    )
    s.add(submission)
    if offer.consent:
        s.add(
            Consent(
                lead_id=lead.id,
                submission=submission,
                offer_id=offer.id,
                wording=offer.consent,
                version=offer.consent_version,
                given_at=now,
            )
        )
    s.add(Event(lead_id=lead.id, offer_id=offer.id, kind="submitted", created_at=now))
    sends = enrol_lead(s, lead, offer, now, new_lead=created)
    from formserver.domain import events as hooks  # the dashboard's tags, score and webhooks

    webhook_ids = hooks.on_submission(s, lead, offer, values, created, now)
    s.flush()
    confirmed = lead.confirmed_at is not None
    return Captured(lead.id, confirmed, created, [x.id for x in sends], webhook_ids)


def store(
    s: Session, offer: Offer, values: Mapping[str, str], meta: SubmissionMeta, now: datetime
) -> Captured:
    """Store a validated submission and commit; retry once if a twin created the lead first."""
    for attempt in (1, 2):
        try:
            captured = _store_once(s, offer, values, meta, now)
            s.commit()
            return captured
        except IntegrityError:
            s.rollback()
            if attempt == 2:
                raise
            logger.info("lead created concurrently; storing the submission as an update")
    raise AssertionError("unreachable")
