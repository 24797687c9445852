"""One CSV layout for every leads export: a lead, one of its submissions and its consent record."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from formserver.content.fields import FIELDS
from formserver.core.csvsafe import safe_cell
from formserver.core.models import Consent, Lead, Submission
from formserver.domain.tags import tags_by_lead

logger = logging.getLogger(__name__)

LEAD_COLUMNS = ("email", "first_name", "last_name", "company")
EXTRA_FIELDS = tuple(name for name in FIELDS if name not in LEAD_COLUMNS)
UTM_COLUMNS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
COLUMNS = (
    *LEAD_COLUMNS,
    *EXTRA_FIELDS,
    "status",
    "score",
    "tags",
    "offers",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "submitted_at",
    "offer",
    "fields",
    *UTM_COLUMNS,
    "referrer",
    "time_zone",
    # The consent record: what the lead agreed to, when, from where, and when they confirmed it.
    "consent_version",
    "consent_given_at",
    "consent_ip",
    "consent_confirmed_at",
)

Row = list[str | int]


def export_row(
    lead: Lead,
    submission: Submission | None,
    consent: tuple[Consent, str | None] | None,
    tags: Sequence[str],
    offers: Sequence[str],
) -> Row:
    """The CSV cells (in ``COLUMNS`` order, each through ``safe_cell``) for one lead and submission.

    ``consent`` is the consent record with the IP stored for the submission that gave it.
    """
    attrs = lead.attributes or {}
    sub_fields = submission.fields if submission else {}
    extra = ";".join(f"{k}={v}" for k, v in sorted(sub_fields.items()) if k not in LEAD_COLUMNS)
    record, consent_ip = consent if consent else (None, None)
    values: Iterable[Any] = (
        *(getattr(lead, name) for name in LEAD_COLUMNS),
        *(attrs.get(name, "") for name in EXTRA_FIELDS),
        lead.status,
        lead.score,
        " ".join(tags),
        " ".join(offers),
        lead.created_at,
        lead.confirmed_at,
        lead.unsubscribed_at,
        submission.created_at if submission else None,
        submission.offer_id if submission else None,
        extra,
        *(getattr(submission, name) if submission else None for name in UTM_COLUMNS),
        submission.referrer if submission else None,
        submission.time_zone if submission else None,
        record.version if record else None,
        record.given_at if record else None,
        consent_ip,
        record.confirmed_at if record else None,
    )
    return [safe_cell(v) for v in values]


def _offers_by_lead(s: Session, lead_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in lead_ids}
    rows = s.execute(
        select(Submission.lead_id, Submission.offer_id)
        .where(Submission.lead_id.in_(lead_ids))
        .distinct()
        .order_by(Submission.offer_id)
    )
    for lead_id, offer_id in rows:
        found[lead_id].append(offer_id)
    return found


def _consents(s: Session, where: Any) -> list[tuple[Consent, str | None]]:
    """Consent records matching ``where``, oldest first, each with its submission's stored IP."""
    stmt = (
        select(Consent, Submission.ip)
        .join(Submission, Consent.submission_id == Submission.id)
        .where(where)
        .order_by(Consent.id)
    )
    return [(consent, ip) for consent, ip in s.execute(stmt)]


def lead_rows(s: Session, stmt: Select, batch: int = 500) -> Iterator[list[Row]]:
    """Batches of rows for the leads ``stmt`` selects, with their latest submission and consent."""
    result = s.execute(stmt.execution_options(yield_per=batch)).scalars()
    for leads in result.partitions():
        ids = [lead.id for lead in leads]
        tags, offers = tags_by_lead(s, ids), _offers_by_lead(s, ids)
        # Ordered oldest first, so the last one written per lead is its latest.
        latest_sub = {
            sub.lead_id: sub
            for sub in s.scalars(
                select(Submission).where(Submission.lead_id.in_(ids)).order_by(Submission.id)
            )
        }
        latest_consent = {c.lead_id: (c, ip) for c, ip in _consents(s, Consent.lead_id.in_(ids))}
        yield [
            export_row(
                lead,
                latest_sub.get(lead.id),
                latest_consent.get(lead.id),
                tags[lead.id],
                offers[lead.id],
            )
            for lead in leads
        ]


def submission_rows(s: Session, stmt: Select, batch: int = 500) -> Iterator[list[Row]]:
    """Batches of rows for the ``(Submission, Lead)`` pairs ``stmt`` selects, with their consent."""
    result = s.execute(stmt.execution_options(yield_per=batch))
    for pairs in result.partitions():
        lead_ids = sorted({lead.id for _, lead in pairs})
        tags, offers = tags_by_lead(s, lead_ids), _offers_by_lead(s, lead_ids)
        sub_ids = [sub.id for sub, _ in pairs]
        given = {
            c.submission_id: (c, ip) for c, ip in _consents(s, Consent.submission_id.in_(sub_ids))
        }
        yield [
            export_row(lead, sub, given.get(sub.id), tags[lead.id], offers[lead.id])
            for sub, lead in pairs
        ]


def csv_text(batches: Iterable[list[Row]]) -> Iterator[str]:
    """The CSV text: the header, then one chunk per batch of rows (never the whole file at once)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for rows in batches:
        writer.writerows(rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():  # only the header: no batch came
        yield buffer.getvalue()
