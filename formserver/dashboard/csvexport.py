"""The leads of a segment as CSV, streamed in batches, with spreadsheet formulas defused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from formserver.content.fields import FIELDS
from formserver.core.csvsafe import safe_cell
from formserver.core.models import Lead, Submission
from formserver.domain.tags import tags_by_lead

LEAD_COLUMNS = ("email", "first_name", "last_name", "company")
EXTRA_FIELDS = tuple(name for name in FIELDS if name not in LEAD_COLUMNS)
HEADER = (
    *LEAD_COLUMNS,
    *EXTRA_FIELDS,
    "status",
    "score",
    "tags",
    "offers",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
)


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


def lead_row(lead: Lead, tags: list[str], offers: list[str]) -> list[str | int]:
    attrs = lead.attributes or {}
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
    )
    return [safe_cell(v) for v in values]


def _line(writer: Any, buffer: io.StringIO, row: Iterable[Any]) -> str:
    writer.writerow(row)
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def csv_lines(s: Session, stmt: Select, batch: int = 500) -> Iterator[str]:
    """Yield the CSV text (header first) for the leads ``stmt`` selects, ``batch`` at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield _line(writer, buffer, HEADER)
    result = s.execute(stmt.execution_options(yield_per=batch)).scalars()
    for leads in result.partitions():
        ids = [lead.id for lead in leads]
        tags, offers = tags_by_lead(s, ids), _offers_by_lead(s, ids)
        for lead in leads:
            writer.writerow(lead_row(lead, tags[lead.id], offers[lead.id]))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
