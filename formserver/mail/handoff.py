"""After a commit: hand the committed sends and webhook deliveries to the queue, never failing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from formserver.domain import webhooks
from formserver.mail.tick import queue_sends

logger = logging.getLogger(__name__)


def after_commit(
    send_ids: Iterable[int] = (), webhook_ids: Iterable[int] = (), what: str = ""
) -> None:
    """Queue committed rows; a queue outage is logged, and the periodic sweeps send the rows.

    The request has already succeeded when this runs (its rows are in the database), so an
    error here must not turn the visitor's answer into a 500 or a retry that stores twice.
    """
    work: tuple[tuple[Callable[[Iterable[int]], None], list[int]], ...] = (
        (queue_sends, list(send_ids)),
        (webhooks.queue_deliveries, list(webhook_ids)),
    )
    for queue, ids in work:
        if not ids:
            continue
        try:
            queue(ids)
        except Exception:  # committed rows: the sweep re-finds them
            logger.exception("could not queue %s after %s; the sweep will", ids, what or "commit")
