"""Outgoing webhooks: a signed JSON POST per lead event, owed in SQL rows, retried with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from formserver.core import db
from formserver.core.models import Lead, WebhookDelivery
from formserver.domain import webhook_http
from formserver.domain.tags import lead_tags

logger = logging.getLogger(__name__)

EVENTS = ("lead.created", "lead.confirmed", "lead.unsubscribed", "lead.converted")
SIGNATURE_HEADER = "X-Lodestone-Signature"
TIMESTAMP_HEADER = "X-Lodestone-Timestamp"
MAX_BACKOFF = 6 * 3600


@dataclass(frozen=True)
class Webhook:
    """One entry of the WEBHOOKS setting."""

    url: str
    secret: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class Refusal:
    """A WEBHOOKS entry that is not used, and why (shown on the dashboard, never its secret)."""

    url: str
    reason: str


def entries(app: Flask | None = None) -> tuple[list[Webhook], list[Refusal]]:
    """The WEBHOOKS entries we use, and those we refuse; a broken entry is never fatal.

    Checked once per value of the settings, not on every event: each lead event asks for them,
    and a refused entry is logged once, not with every submission.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    key = repr((config.get("WEBHOOKS"), bool(config["WEBHOOK_ALLOW_PRIVATE"])))
    cached = app.extensions.get("webhook_entries")
    if cached is None or cached[0] != key:
        cached = app.extensions["webhook_entries"] = (key, _checked_entries(config))
    return cached[1]


def _checked_entries(config: Mapping[str, Any]) -> tuple[list[Webhook], list[Refusal]]:
    allow_private = bool(config["WEBHOOK_ALLOW_PRIVATE"])
    hooks: list[Webhook] = []
    refused: list[Refusal] = []
    for entry in config.get("WEBHOOKS") or []:
        try:
            url, secret = str(entry["url"]), str(entry["secret"])
            events = tuple(entry.get("events") or EVENTS)
        except (KeyError, TypeError, AttributeError):
            named = entry.get("url", "") if isinstance(entry, dict) else ""
            refused.append(Refusal(str(named), "needs url and secret"))
            continue
        unknown = sorted(str(e) for e in set(events) - set(EVENTS))
        reason = webhook_http.url_refusal(url, allow_private)
        if not reason and not secret:
            reason = "has no secret"
        if not reason and unknown:
            reason = f"unknown events {', '.join(unknown)}"
        if reason:
            refused.append(Refusal(url, reason))
        else:
            hooks.append(Webhook(url, secret, events))
    for r in refused:
        logger.error("WEBHOOKS entry %s not used: %s", r.url or "(no url)", r.reason)
    return hooks, refused


def configured(app: Flask | None = None) -> list[Webhook]:
    """The valid, allowed entries of WEBHOOKS; the others are logged and skipped."""
    return entries(app)[0]


def lead_payload(s: Session, lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company,
        "fields": dict(lead.attributes or {}),
        "status": lead.status,
        "score": lead.score,
        "tags": lead_tags(s, lead.id),
        "created_at": lead.created_at.isoformat() if lead.created_at else None,
    }


def emit(
    s: Session, event: str, lead: Lead, now: datetime, data: dict[str, Any] | None = None
) -> list[int]:
    """Owe ``event`` to every webhook that wants it, in the caller's transaction.

    Returns the delivery ids; pass them to queue_deliveries() after the commit.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    hooks = [h for h in configured() if event in h.events]
    if not hooks:
        return []
    s.flush()
    payload = {
        "event": event,
        "occurred_at": now.isoformat(),
        "lead": lead_payload(s, lead),
        "data": data or {},
    }
    rows = [
        WebhookDelivery(
            lead_id=lead.id, url=h.url, event=event, payload=payload, next_attempt_at=now
        )
        for h in hooks
    ]
    s.add_all(rows)
    s.flush()
    return [row.id for row in rows]


def body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (and signed): the payload with the delivery id, compact JSON."""
    document = {"id": delivery.id, **(delivery.payload or {})}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: int, payload: bytes) -> str:
    """The signature header value: ``sha256=`` HMAC-SHA256 hex of ``"<timestamp>." + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, payload: bytes, signature: str, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does: recompute the signature and refuse stale timestamps."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, payload), signature)


def backoff(attempts: int, base: int) -> int:
    """Seconds to wait after ``attempts`` failures: base, 2×base, 4×base, ... up to six hours."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def attempt(
    app: Flask, delivery_id: int, now: datetime, resolve: webhook_http.Resolver | None = None
) -> WebhookDelivery | None:
    """Try one delivery once; returns the row afterwards, None if it was not due or is gone."""
    cfg = app.config
    lease = now + timedelta(seconds=cfg["WEBHOOK_TIMEOUT"] * 3)
    with db.new_session(app) as s:
        # Claim it: only one worker wins the update, so a delivery is never POSTed twice at once.
        claimed = db.rowcount(
            s.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                )
                .values(next_attempt_at=lease)
            )
        )
        s.commit()
        delivery = s.get(WebhookDelivery, delivery_id)
        if not claimed or delivery is None:
            return None
        hooks, refused = entries(app)
        hook = next((h for h in hooks if h.url == delivery.url), None)
        delivery.attempts += 1
        if hook is None:
            why = next((r.reason for r in refused if r.url == delivery.url), "")
            status, error = 0, why or "this URL is no longer in WEBHOOKS"
        else:
            data = body(delivery)
            timestamp = int(now.timestamp())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Lodestone-Webhooks/1",
                "X-Lodestone-Event": delivery.event,
                "X-Lodestone-Delivery": str(delivery.id),
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(hook.secret, timestamp, data),
            }
            status, error = webhook_http.post(
                delivery.url,
                data,
                headers,
                cfg["WEBHOOK_TIMEOUT"],
                allow_private=bool(cfg["WEBHOOK_ALLOW_PRIVATE"]),
                resolve=resolve or webhook_http.resolver(app),
            )
        delivery.last_status = status or None
        if 200 <= status < 300:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, ""
            delivery.next_attempt_at = None
        else:
            delivery.last_error = error or f"HTTP {status}"
            if delivery.attempts >= cfg["WEBHOOK_MAX_ATTEMPTS"] or hook is None:
                delivery.status, delivery.next_attempt_at = "failed", None
            else:
                wait = backoff(delivery.attempts, cfg["WEBHOOK_RETRY_BASE"])
                delivery.next_attempt_at = now + timedelta(seconds=wait)
            logger.warning(
                "webhook %s to %s failed (attempt %s): %s",
                delivery.id,
                delivery.url,
                delivery.attempts,
                delivery.last_error,
            )
        s.commit()
        return delivery


def due(s: Session, now: datetime, limit: int = 200) -> list[int]:
    """Pending deliveries whose time has come (the sweep re-queues these)."""
    stmt = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return list(s.scalars(stmt))


def retry_now(s: Session, delivery_id: int, now: datetime) -> bool:
    """Make a failed or waiting delivery due again (the admin's "retry" button)."""
    result = s.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status != "delivered")
        .values(status="pending", next_attempt_at=now, attempts=0)
    )
    return bool(db.rowcount(result))


def queue_deliveries(ids: Iterable[int]) -> None:
    """Hand committed deliveries to the queue; the periodic sweep catches any missed here.

    The task is looked up where ``webhook_tasks.init_app`` registered it, so this layer never
    imports the queue's.
    """
    entry = current_app.extensions.get("admin_webhook_tasks")
    for delivery_id in ids:
        if entry is None:
            logger.warning("webhook delivery %s not queued: no Huey instance", delivery_id)
            continue
        entry["deliver"](delivery_id, datetime.now(UTC).isoformat())
