"""Sends that need a person: quarantined (poison) and failed emails, each with a retry button."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from formserver.core import db
from formserver.mail import quarantine
from formserver.mail.tick import queue_sends

bp = Blueprint("sends", __name__, url_prefix="/sends")


@bp.get("/")
def index() -> str:
    status = request.args.get("status", "")
    status = status if status in quarantine.STUCK else ""
    return render_template(
        "admin/sends.html",
        rows=quarantine.stuck_sends(db.session(), status),
        status=status,
        statuses=quarantine.STUCK,
    )


@bp.post("/<int:send_id>/retry")
def retry(send_id: int) -> Response:
    s = db.session()
    if quarantine.retry_now(s, send_id, datetime.now(UTC)):
        s.commit()
        queue_sends([send_id])
        flash(f"Send #{send_id} is queued again and goes out within seconds.")
    else:
        flash(f"Send #{send_id} is not quarantined or failed (any more).", "error")
    return redirect(url_for("admin.sends.index"), 303)
