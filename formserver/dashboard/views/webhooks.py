"""The webhook page: configured and refused URLs, a URL check, the delivery log and retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response

from formserver.core import db
from formserver.core.models import WebhookDelivery
from formserver.domain import webhook_http, webhooks

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

STATUSES = ("pending", "delivered", "failed")
MAX_URL = 2000


def _page(check: dict[str, Any] | None = None) -> str:
    status = request.args.get("status", "")
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(200)
    if status in STATUSES:
        stmt = stmt.where(WebhookDelivery.status == status)
    hooks, refused = webhooks.entries()
    return render_template(
        "admin/webhooks.html",
        deliveries=db.session().scalars(stmt).all(),
        hooks=hooks,
        refused=refused,
        check=check,
        status=status if status in STATUSES else "",
        statuses=STATUSES,
    )


@bp.get("/")
def index() -> str:
    return _page()


@bp.post("/check")
def check() -> tuple[str, int]:
    """Check a URL before it goes into WEBHOOKS: the same lookup and refusal a send makes."""
    url = (request.form.get("url") or "").strip()
    if not url or len(url) > MAX_URL:
        found: list[str] = []
        reason = "no URL given" if not url else f"longer than {MAX_URL} characters"
    else:
        allow_private = bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"])
        found, reason = webhook_http.addresses(
            url, allow_private, webhook_http.resolver(current_app)
        )
    result = {"url": url[:MAX_URL], "addresses": found, "reason": reason}
    return _page(check=result), 422 if reason else 200


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
