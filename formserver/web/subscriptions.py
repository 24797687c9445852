"""Confirm, unsubscribe, resubscribe and preferences: a GET shows a page, only a POST acts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Flask, abort, current_app, render_template, request
from sqlalchemy import select, update

from formserver.core import db
from formserver.core.models import Consent, Enrolment, Event, Lead, Send
from formserver.core.tokens import TokenExpired, TokenInvalid, read_token
from formserver.mail.dispatch import cancel_pending
from formserver.mail.handoff import after_commit

logger = logging.getLogger(__name__)
bp = Blueprint("subscriptions", __name__)
ONE_CLICK = "List-Unsubscribe=One-Click"


def _lead(purpose: str, token: str, max_age: int | None = None) -> tuple[Lead, dict]:
    try:
        payload = read_token(purpose, token, max_age)
    except TokenExpired:
        abort(410, description="This link has expired. Submit the form again for a new one.")
    except TokenInvalid:
        abort(403, description="This link is not valid.")
    lead = db.session().get(Lead, payload.get("l")) if isinstance(payload, dict) else None
    if lead is None:
        abort(404, description="We have no record of this address any more.")
    return lead, payload


@bp.get("/confirm/<token>")
def confirm_page(token: str):
    lead, _ = _lead("confirm", token, current_app.config["CONFIRM_MAX_AGE"])
    return render_template("drip/confirm.html", token=token, done=lead.confirmed_at is not None)


@bp.post("/confirm/<token>")
def confirm(token: str):
    from formserver.domain import events as hooks

    lead, _ = _lead("confirm", token, current_app.config["CONFIRM_MAX_AGE"])
    s = db.session()
    now = datetime.now(UTC)
    send_ids: list[int] = []
    webhook_ids: list[int] = []
    if lead.confirmed_at is None:
        lead.confirmed_at = now
        if lead.status == "unconfirmed":
            lead.status = "active"
        s.execute(
            update(Consent)
            .where(Consent.lead_id == lead.id, Consent.confirmed_at.is_(None))
            .values(confirmed_at=now)
        )
        s.add(Event(lead_id=lead.id, kind="confirmed", created_at=now))
        for enrolment in s.scalars(
            select(Enrolment).where(Enrolment.lead_id == lead.id, Enrolment.status == "pending")
        ):
            enrolment.status, enrolment.started_at, enrolment.last_step = "active", now, 0
            send = Send(
                lead_id=lead.id,
                enrolment_id=enrolment.id,
                offer_id=enrolment.offer_id,
                series=enrolment.series,
                kind="step",
                step=0,
                due_at=now,
            )
            s.add(send)
            s.flush()
            send_ids.append(send.id)
        webhook_ids = hooks.on_event(s, lead, "confirmed", now)
        s.commit()
        after_commit(send_ids, webhook_ids, f"confirm of lead {lead.id}")
    return render_template("drip/confirm.html", token=token, done=True)


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    lead, _ = _lead("unsubscribe", token)
    return render_template(
        "drip/unsubscribe.html", token=token, lead=lead, done=lead.status == "unsubscribed"
    )


@bp.post("/unsubscribe/<token>")
def unsubscribe(token: str):
    """The page's button and RFC 8058 one-click (no cookies, no Origin) both land here."""
    from formserver.domain import events as hooks

    lead, _ = _lead("unsubscribe", token)
    s = db.session()
    now = datetime.now(UTC)
    webhook_ids: list[int] = []
    if lead.status != "unsubscribed":
        lead.status = "unsubscribed"
        lead.unsubscribed_at = now
        s.add(Event(lead_id=lead.id, kind="unsubscribed", created_at=now))
        cancel_pending(s, lead.id, now, "unsubscribed")
        webhook_ids = hooks.on_event(s, lead, "unsubscribed", now)
        s.commit()
        after_commit((), webhook_ids, f"unsubscribe of lead {lead.id}")
    if request.get_data(as_text=True).strip() == ONE_CLICK:
        return "Unsubscribed.\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("drip/unsubscribe.html", token=token, lead=lead, done=True)


@bp.post("/unsubscribe/<token>/resubscribe")
def resubscribe(token: str):
    lead, _ = _lead("unsubscribe", token)
    if lead.status == "unsubscribed":
        lead.status = "active"
        lead.unsubscribed_at = None
        db.session().add(Event(lead_id=lead.id, kind="resubscribed", created_at=datetime.now(UTC)))
        db.session().commit()
    return render_template(
        "drip/unsubscribe.html", token=token, lead=lead, done=False, resubscribed=True
    )


@bp.route("/preferences/<token>", methods=["GET", "POST"])
def preferences(token: str):
    """Leave one series, or all email."""
    lead, _ = _lead("preferences", token)
    s = db.session()
    now = datetime.now(UTC)
    saved = False
    if request.method == "POST":
        from formserver.domain import events as hooks

        leave = set(request.form.getlist("leave"))
        webhook_ids: list[int] = []
        if "all" in leave and lead.status == "active":
            lead.status, lead.unsubscribed_at = "unsubscribed", now
            s.add(Event(lead_id=lead.id, kind="unsubscribed", created_at=now))
            cancel_pending(s, lead.id, now, "unsubscribed")
            webhook_ids = hooks.on_event(s, lead, "unsubscribed", now)
        for series in leave - {"all"}:
            cancel_pending(s, lead.id, now, "left series", series=series[:64])
        s.commit()
        after_commit((), webhook_ids, f"preferences of lead {lead.id}")
        saved = True
    enrolments = list(
        s.scalars(
            select(Enrolment).where(
                Enrolment.lead_id == lead.id, Enrolment.status.in_(("active", "pending"))
            )
        )
    )
    return render_template(
        "drip/preferences.html", token=token, lead=lead, enrolments=enrolments, saved=saved
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
