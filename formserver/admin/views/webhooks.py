"""The webhook delivery log: what was sent where, how it went, and a retry button."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from formserver import db
from formserver.admin import webhooks
from formserver.admin.models import WebhookDelivery

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

STATUSES = ("pending", "delivered", "failed")


@bp.get("/")
def index():  # noqa: ANN201
    status = request.args.get("status", "")
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(200)
    if status in STATUSES:
        stmt = stmt.where(WebhookDelivery.status == status)
    return render_template(
        "admin/webhooks.html",
        deliveries=db.session().scalars(stmt).all(),
        hooks=webhooks.configured(),
        status=status if status in STATUSES else "",
        statuses=STATUSES,
    )


@bp.post("/<int:delivery_id>/retry")
def retry(delivery_id: int) -> Response:
    s = db.session()
    if webhooks.retry_now(s, delivery_id, datetime.now(UTC)):
        s.commit()
        webhooks.queue_deliveries([delivery_id])
        flash(f"Delivery #{delivery_id} will be sent again within seconds.")
    else:
        flash(f"Delivery #{delivery_id} was already delivered or does not exist.", "error")
    return redirect(url_for("admin.webhooks.index"), 303)
