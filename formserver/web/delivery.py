"""Gated assets through signed, expiring links: stream, or hand the file to nginx/Apache."""

from __future__ import annotations

import logging
import mimetypes
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
)

from formserver.content.offers import Offer
from formserver.core import catalog, db
from formserver.core.guards import limiter
from formserver.core.models import Download, Event, Lead
from formserver.core.tokens import TokenExpired, TokenInvalid, read_token
from formserver.domain import events as hooks
from formserver.domain.privacy import FORGOTTEN

logger = logging.getLogger(__name__)
bp = Blueprint("delivery", __name__)


class LinkExpired(Exception):
    """A genuine download link past its age; carries the token for the renewal form."""

    def __init__(self, token: str) -> None:
        super().__init__("download link expired")
        self.token = token


def _resolve(payload: object) -> tuple[Lead, Offer]:
    """The lead and offer a payload names, or 403 when either is gone or the asset changed."""
    if not isinstance(payload, dict) or not {"l", "o", "a"} <= payload.keys():
        abort(403, description="This download link is not valid.")
    offer = catalog.offer(str(payload["o"]))
    lead = db.session().get(Lead, payload["l"]) if isinstance(payload["l"], int) else None
    gone = lead is None or lead.status == FORGOTTEN  # erased on request: their links die too
    if lead is None or offer is None or gone or payload["a"] != offer.asset_filename:
        abort(403, description="This download link is not valid.")
    return lead, offer


def read_download_token(token: str) -> tuple[Lead, Offer, str]:
    """Lead, offer and token of a valid link; 403 if forged, 410 page if expired."""
    try:
        payload = read_token("download", token, current_app.config["DOWNLOAD_MAX_AGE"])
    except TokenExpired as e:
        _resolve(e.payload)
        raise LinkExpired(token) from e
    except TokenInvalid:
        abort(403, description="This download link is not valid.")
    lead, offer = _resolve(payload)
    return lead, offer, token


def _record(lead: Lead, offer: Offer) -> None:
    now = datetime.now(UTC)
    s = db.session()
    s.add(Download(lead_id=lead.id, offer_id=offer.id, created_at=now))
    s.add(Event(lead_id=lead.id, offer_id=offer.id, kind="downloaded", created_at=now))
    hooks.on_event(s, lead, "downloaded", now)
    s.commit()


@bp.get("/download/<token>")
def download(token: str) -> Response:
    lead, offer, _ = read_download_token(token)
    mode = current_app.config["ASSET_DELIVERY"]
    name = offer.asset_filename
    if mode in ("x-accel-redirect", "x-sendfile"):
        response = Response(status=200, mimetype=mimetypes.guess_type(name)[0])
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        if mode == "x-accel-redirect":
            response.headers["X-Accel-Redirect"] = current_app.config["ASSET_ACCEL_PREFIX"] + name
        else:
            response.headers["X-Sendfile"] = str(offer.asset)
    else:
        response = send_file(offer.asset, as_attachment=True, download_name=name, conditional=True)
        response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    # One record per real fetch: not for HEAD, a 304 revalidation, or a resumed range.
    starts_at_zero = not request.range or request.range.ranges[0][0] == 0
    if request.method == "GET" and response.status_code in (200, 206) and starts_at_zero:
        _record(lead, offer)
    return response


def deliver_fresh_link(lead: Lead, offer: Offer) -> None:
    """Email a fresh download link: the offer's asset email (step 0) again, through the queue."""
    from formserver.core.models import Send
    from formserver.mail.handoff import after_commit

    s = db.session()
    send = Send(
        lead_id=lead.id,
        offer_id=offer.id,
        series=offer.series,
        kind="link",
        step=None,
        due_at=datetime.now(UTC),
    )
    s.add(send)
    s.commit()
    after_commit([send.id], (), f"a fresh link for lead {lead.id}")


@bp.post("/download/renew")
@limiter.limit("10 per hour")
def renew():
    """An expired link plus the lead's own email address: a fresh link goes to that inbox."""
    token = request.form.get("token", "")[:2000]
    email = request.form.get("email", "")[:254].strip().lower()
    try:
        payload = read_token("download", token)  # any age: expiry is why we are here
    except (TokenInvalid, TokenExpired):
        abort(403, description="This download link is not valid.")
    lead, offer = _resolve(payload)
    if not email or email != lead.email:
        page = render_template(
            "expired.html",
            token=token,
            email=email,
            error="That email address does not match this link.",
        )
        return page, 422
    deliver_fresh_link(lead, offer)  # by email only: the page shows no link
    return render_template("renewed.html", offer=offer)


def _expired(e: LinkExpired):
    return render_template("expired.html", token=e.token, email="", error=""), 410


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(LinkExpired, _expired)
