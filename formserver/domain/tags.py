"""Lead tags: from the offer (Lead_tags), from chosen field values (role:marketing), API, admin."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from formserver.content.offers import Offer
from formserver.core import db
from formserver.core.models import Event, Lead, LeadTag

logger = logging.getLogger(__name__)

DEFAULT_TAG_FIELDS = ("role", "company_size")
_UNSAFE = re.compile(r"[^a-z0-9:_.+-]+")


def normalize_tag(raw: str) -> str:
    """Lower-case, no spaces, only [a-z0-9:_.+-], at most 100 characters ('' when nothing left)."""
    return _UNSAFE.sub("-", raw.strip().lower()).strip("-")[:100]


def lead_tags(s: Session, lead_id: int) -> list[str]:
    return list(s.scalars(select(LeadTag.tag).where(LeadTag.lead_id == lead_id).order_by("tag")))


def add_tag(
    s: Session, lead: Lead, raw: str, source: str, now: datetime, fresh: bool = False
) -> bool:
    """Tag ``lead`` once (records a "tagged" event); False when it already had the tag.

    ``fresh``: the lead was created in this transaction, so it has no tags yet and no other
    transaction can see it to tag it: the checks are skipped.
    """
    tag = normalize_tag(raw)
    if not tag:
        raise ValueError("a tag needs at least one letter or digit")
    if fresh:
        s.add(LeadTag(lead_id=lead.id, tag=tag, source=source, created_at=now))
    else:
        exists = select(LeadTag.id).where(LeadTag.lead_id == lead.id, LeadTag.tag == tag)
        if s.scalar(exists) is not None:
            return False
        try:
            with s.begin_nested():
                s.add(LeadTag(lead_id=lead.id, tag=tag, source=source, created_at=now))
        except IntegrityError:  # tagged by a concurrent request meanwhile
            return False
    s.add(
        Event(lead_id=lead.id, kind="tagged", data={"tag": tag, "source": source}, created_at=now)
    )
    return True


def remove_tag(s: Session, lead: Lead, raw: str) -> bool:
    result = s.execute(
        delete(LeadTag).where(LeadTag.lead_id == lead.id, LeadTag.tag == normalize_tag(raw))
    )
    return bool(db.rowcount(result))


def submission_tags(offer: Offer, fields: Mapping[str, Any]) -> list[str]:
    """The offer's Lead_tags plus ``name:value`` for each tagging field the lead filled in."""
    tags = [normalize_tag(t) for t in offer.lead_tags]
    for name in current_app.config.get("TAG_FIELDS", DEFAULT_TAG_FIELDS):
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            tags.append(normalize_tag(f"{name}:{value}"))
    return [t for t in dict.fromkeys(tags) if t]


def tag_submission(
    s: Session,
    lead: Lead,
    offer: Offer,
    fields: Mapping[str, Any],
    now: datetime,
    fresh: bool = False,
) -> list[str]:
    """Add the submission's tags to ``lead``; returns the tags that are new."""
    added = []
    for tag in submission_tags(offer, fields):
        source = "offer" if tag in (normalize_tag(t) for t in offer.lead_tags) else "field"
        if add_tag(s, lead, tag, source, now, fresh):
            added.append(tag)
    return added


def all_tags(s: Session) -> list[str]:
    return list(s.scalars(select(LeadTag.tag).distinct().order_by(LeadTag.tag)))


def tags_by_lead(s: Session, lead_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(lead_ids)
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        rows = s.execute(
            select(LeadTag.lead_id, LeadTag.tag).where(LeadTag.lead_id.in_(ids)).order_by("tag")
        )
        for lead_id, tag in rows:
            found[lead_id].append(tag)
    return found
