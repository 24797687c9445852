"""Find what is due, claim it, send it: the SQL rows are the truth, the queue only runs this."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVarTuple

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from formserver.content.errors import DefinitionError
from formserver.content.series import get_series
from formserver.core import db
from formserver.core.models import Enrolment, Event, Lead, Send
from formserver.mail import compose as context
from formserver.mail import quarantine
from formserver.mail import smtp as mail
from formserver.mail.render import render_email
from formserver.mail.schedule import due_at

logger = logging.getLogger(__name__)
_Ts = TypeVarTuple("_Ts")
STALE_CLAIM = timedelta(minutes=10)


def emails_dir() -> Path:
    """The folder of the series and their email templates."""
    return Path(current_app.config["CONTENT_PATH"]) / "emails"


def _locked(query: Select[*_Ts], s: Session) -> Select[*_Ts]:
    """Row locks that other workers skip, on databases that have them (PostgreSQL)."""
    if s.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def stop_reason(s: Session, lead: Lead, series_stop: dict[str, Any], now: datetime) -> str | None:
    """Why the lead's series should stop now (its status, a stop tag or score), else None."""
    if lead.status != "active":
        return lead.status
    from formserver.domain.scoring import should_stop

    return should_stop(lead, series_stop, now)


def schedule_due(s: Session, now: datetime, limit: int = 1000) -> int:
    """Turn enrolments whose next step is due into queued Send rows; return how many."""
    query = (
        select(Enrolment)
        .where(Enrolment.status == "active", Enrolment.next_due_at <= now)
        .order_by(Enrolment.next_due_at)
        .limit(limit)
    )
    created = 0
    for enrolment in s.scalars(_locked(query, s)):
        lead = s.get(Lead, enrolment.lead_id)
        try:
            if lead is None:  # its lead was deleted under us: the same hour's wait as any error
                raise LookupError(f"lead {enrolment.lead_id} not found")
            series = get_series(emails_dir(), enrolment.series)
            stop = {"tags": series.stop_tags, "score_at_least": series.stop_score}
            reason = stop_reason(s, lead, stop, now)
            step = series.next_step(enrolment.last_step)
        except Exception:  # one broken series or lead must not stop every other enrolment
            logger.exception("enrolment %s not scheduled; trying again in an hour", enrolment.id)
            enrolment.next_due_at = now + timedelta(hours=1)  # off the head of the queue
            continue
        if reason or step is None:
            enrolment.status = "stopped" if reason else "completed"
            enrolment.stop_reason = reason or ""
            enrolment.stopped_at = now
            enrolment.next_due_at = None
            continue
        s.add(
            Send(
                lead_id=lead.id,
                enrolment_id=enrolment.id,
                offer_id=enrolment.offer_id,
                series=series.name,
                kind="step",
                step=step.number,
                template=step.path.name,
                due_at=enrolment.next_due_at,
            )
        )
        enrolment.last_step = step.number
        enrolment.next_due_at = None
        created += 1
    s.commit()
    return created


def claim(s: Session, now: datetime, limit: int, ids: list[int] | None = None) -> list[int]:
    """Mark due queued sends as ours ('sending'); no other worker can take them after this."""
    query = select(Send.id).where(Send.status == "queued", Send.due_at <= now)
    if ids is not None:
        query = query.where(Send.id.in_(ids))
    query = _locked(query.order_by(Send.due_at, Send.id).limit(limit), s)
    claimed = []
    for send_id in s.scalars(query).all():
        # The status check makes the claim atomic on SQLite too (one writer at a time).
        result = s.execute(
            update(Send)
            .where(Send.id == send_id, Send.status == "queued")
            .values(status="sending", claimed_at=now)
        )
        if db.rowcount(result) == 1:
            claimed.append(send_id)
    s.commit()
    return claimed


def requeue_stale(s: Session, now: datetime) -> int:
    """A worker that died mid-batch left rows 'sending': put them back (at most one doubles)."""
    result = s.execute(
        update(Send)
        .where(Send.status == "sending", Send.claimed_at < now - STALE_CLAIM)
        .values(status="queued")
    )
    s.commit()
    return db.rowcount(result)


def bounce(s: Session, lead: Lead, now: datetime, error: str) -> None:
    """A permanent failure: the lead is bounced and every series stops."""
    lead.status = "bounced"
    lead.bounced_at = now
    s.add(Event(lead_id=lead.id, kind="bounced", data={"error": error[:500]}, created_at=now))
    cancel_pending(s, lead.id, now, "bounced")
    from formserver.domain import events as hooks

    hooks.on_event(s, lead, "bounced", now)


def cancel_pending(
    s: Session, lead_id: int, now: datetime, reason: str, series: str | None = None
) -> None:
    """Cancel queued sends and stop enrolments of a lead (one series, or all)."""
    sends = update(Send).where(Send.lead_id == lead_id, Send.status == "queued")
    enrolments = update(Enrolment).where(
        Enrolment.lead_id == lead_id, Enrolment.status.in_(("active", "pending"))
    )
    if series:
        sends = sends.where(Send.series == series)
        enrolments = enrolments.where(Enrolment.series == series)
    s.execute(sends.values(status="cancelled"))
    s.execute(
        enrolments.values(status="stopped", stop_reason=reason, stopped_at=now, next_due_at=None)
    )


def _after_sent(s: Session, send: Send, lead: Lead, now: datetime) -> None:
    send.status = "sent"
    send.sent_at = now
    s.add(
        Event(
            lead_id=lead.id,
            offer_id=send.offer_id,
            kind="sent",
            data={"send": send.id, "series": send.series, "step": send.step, "kind": send.kind},
            created_at=now,
        )
    )
    if send.enrolment_id is None:
        return
    enrolment = s.get(Enrolment, send.enrolment_id)
    if enrolment is None:  # the caller logs it and records the send as sent
        raise LookupError(f"enrolment {send.enrolment_id} not found")
    enrolment.last_sent_at = now
    series = get_series(emails_dir(), enrolment.series)
    following = series.next_step(enrolment.last_step)
    if enrolment.status == "active":
        if following is None:
            enrolment.status = "completed"
        else:
            enrolment.next_due_at = due_at(now, following, series, lead.time_zone)


def deliver(send_ids: list[int], now: datetime, deadline: float) -> dict[str, int]:
    """Render and send sends claimed at ``now`` over one SMTP connection; record each outcome.

    If the server is down or the connection is lost, or ``deadline`` (a ``time.monotonic()``
    value) passes, the sends not yet tried are deferred by ``SEND_RETRY_BASE`` without spending
    an attempt (the delay is not theirs), and ``deferred`` in the result tells the caller to
    stop claiming for this pass. Any other error fails its own email only (``_deliver_one``).
    """
    counts = dict.fromkeys(
        ("sent", "retry", "failed", "quarantined", "bounced", "cancelled", "deferred"), 0
    )
    if not send_ids:
        return counts
    with db.new_session() as s:
        loaded = _prefetch(s, send_ids)  # noqa: F841 (held: the identity map only keeps weak refs)
        try:
            with mail.connect() as connection:
                for send_id in send_ids:
                    if time.monotonic() > deadline:
                        logger.warning("pass time limit reached; the rest waits for the next pass")
                        counts["deferred"] += _defer_unsent(s, send_ids, now, "pass time limit")
                        break
                    outcome = _deliver_one(s, connection, send_id, now)
                    counts[outcome] += 1
                    s.commit()
        except mail.SendingMisconfigured as e:  # nothing can go out: no email's fault
            logger.error("nothing sent until this is fixed: %s", e)
            counts["deferred"] += _defer_unsent(s, send_ids, now, str(e))
        except (mail.ConnectionLost, OSError) as e:  # down, unreachable, closing, or cut off
            logger.warning("SMTP unavailable (%s); the rest of the batch waits", e)
            counts["deferred"] += _defer_unsent(s, send_ids, now, f"SMTP unavailable: {e}")
    counts["retry"] += counts["deferred"]
    return counts


def _prefetch(s: Session, send_ids: list[int]) -> list[object]:
    """Load a batch's sends, leads and enrolments in three queries, not three per email.

    The caller must hold the returned rows for the batch: the session's identity map keeps only
    weak references, so rows nobody holds are dropped and ``s.get`` would query again.
    """
    sends = list(s.scalars(select(Send).where(Send.id.in_(send_ids))))
    leads = s.scalars(select(Lead).where(Lead.id.in_({x.lead_id for x in sends}))).all()
    enrolment_ids = {x.enrolment_id for x in sends if x.enrolment_id}
    enrolments = s.scalars(select(Enrolment).where(Enrolment.id.in_(enrolment_ids))).all()
    return [*sends, *leads, *enrolments]


def _defer_unsent(s: Session, send_ids: list[int], now: datetime, error: str) -> int:
    """Put the batch's untried sends (still claimed at ``now``) back in the queue for later."""
    s.rollback()
    wait = timedelta(seconds=current_app.config["SEND_RETRY_BASE"])
    result = s.execute(
        update(Send)
        .where(Send.id.in_(send_ids), Send.status == "sending", Send.claimed_at == now)
        .values(status="queued", due_at=now + wait, last_error=error[:2000])
    )
    s.commit()
    return db.rowcount(result)


def _deliver_one(s: Session, connection: mail.TimedConnection, send_id: int, now: datetime) -> str:
    """Send one claimed email over ``connection`` and record the outcome; return its name."""
    send = s.get(Send, send_id)
    lead = s.get(Lead, send.lead_id) if send is not None else None
    if send is None or lead is None:  # deleted since the claim (its lead purged or erased)
        logger.info("send %s vanished before it went out; nothing to send", send_id)
        return "cancelled"
    marketing = send.kind == "step" and (send.step or 0) > 0
    if marketing and lead.status != "active" or lead.status == "bounced":
        send.status = "cancelled"
        return "cancelled"
    try:
        rendered, envelope = context.compose(send, lead)
        message = mail.build(rendered, envelope)
    except (DefinitionError, mail.HeaderInjection) as e:
        logger.error("send %s not sent, fix the template and it will retry: %s", send.id, e)
        return quarantine.spend_attempt(send, now, str(e))
    except Exception as e:  # a bug or an odd stored value: this email alone fails
        return quarantine.poisoned(send, now, e)
    try:
        mail.send(connection, message)
    except mail.SendingMisconfigured:  # no email's fault: the whole batch waits
        raise
    except mail.PermanentFailure as e:
        send.status = "failed"
        send.last_error = str(e)[:2000]
        bounce(s, lead, now, str(e))
        return "bounced"
    except mail.ConnectionLost as e:  # this email spends an attempt; the rest are deferred
        quarantine.spend_attempt(send, now, str(e))
        s.commit()
        raise
    except mail.TemporaryFailure as e:  # a 4xx for this email only: the connection goes on
        return quarantine.spend_attempt(send, now, str(e))
    except mail.Undeliverable as e:
        return quarantine.undeliverable(send, str(e))
    except Exception as e:  # half-way through SMTP, maybe: reset before the next email
        outcome = quarantine.poisoned(send, now, e)
        s.commit()
        mail.recover(connection)
        return outcome
    send.message_id = message.msgId
    send.subject = rendered.subject[:300]
    try:
        _after_sent(s, send, lead, now)
    except Exception:  # it went out: record it as sent, or a later pass would send it twice
        logger.exception("send %s went out but its next step could not be scheduled", send.id)
        send.status, send.sent_at = "sent", now
    return "sent"


__all__ = ["claim", "deliver", "render_email", "requeue_stale", "schedule_due"]
