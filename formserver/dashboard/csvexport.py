"""The leads of a segment as CSV, streamed in batches, with spreadsheet formulas defused."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from sqlalchemy import Select
from sqlalchemy.orm import Session

from formserver.domain import export

logger = logging.getLogger(__name__)


def csv_lines(s: Session, stmt: Select, batch: int = 500) -> Iterator[str]:
    """Yield the CSV text (header first) for the leads ``stmt`` selects, ``batch`` at a time."""
    # The same columns and row builder as ``flask leads export``: one row per lead here.
    yield from export.csv_text(export.lead_rows(s, stmt, batch))
