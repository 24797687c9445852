"""Cookie-free measurement: landing-page views, clicks through signed links, optional opens."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask import Response as FlaskResponse
from flask_limiter import RequestLimit
from sqlalchemy import select
from werkzeug.wrappers import Response

from formserver.content.fields import UTM_FIELDS
from formserver.core import catalog, db
from formserver.core.guards import beacon_rate_limit, check_origin, limiter, pixel_rate_limit
from formserver.core.jsonbody import read_json
from formserver.core.models import Event, Lead, Send
from formserver.core.requests import own_origins
from formserver.core.tokens import TokenExpired, TokenInvalid, read_token
from formserver.core.urls import host
from formserver.domain import links, scoring
from formserver.domain.privacy import FORGOTTEN

logger = logging.getLogger(__name__)
bp = Blueprint("tracking", __name__)

VIEW_UTM = UTM_FIELDS[:3]  # source, medium, campaign: enough to attribute, nothing personal
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# Mail security scanners follow every link of an email but are missing from crawlerdetect's list
# (measured with 0.4.2: Barracuda's scanner, Microsoft Defender Safe Links, Proofpoint, Mimecast).
MAIL_SCANNERS = re.compile(r"barracuda|safelinks|defender|proofpoint|mimecast|scanner", re.I)


@lru_cache(maxsize=1)
def _crawler_detect() -> Any:
    """crawlerdetect's maintained list of crawlers, previewers and HTTP libraries, made once."""
    from crawlerdetect import CrawlerDetect  # on the first tracked request, not at start-up

    return CrawlerDetect()


_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def is_bot(user_agent: str | None) -> bool:
    """A crawler, link previewer, HTTP library or mail scanner: its requests are not counted."""
    if not user_agent or MAIL_SCANNERS.search(user_agent):
        return True
    return bool(_crawler_detect().isCrawler(user_agent))


def _clean(value: object) -> str:
    # Control characters (NUL above all: PostgreSQL's JSON functions refuse \u0000) go too.
    return " ".join(_CONTROL.sub(" ", str(value or "")).split())[:200]


def record_view(offer_id: str, referrer: str, utm: dict[str, str], now: datetime) -> None:
    """Store one anonymous page view: offer, time, referring host and UTM; nothing else."""
    data = {"referrer_host": _clean(host(referrer))}
    data.update({key: _clean(utm.get(key)) for key in VIEW_UTM})
    s = db.session()
    s.add(Event(lead_id=None, offer_id=offer_id, kind="pageview", data=data, created_at=now))
    s.commit()


_R = TypeVar("_R", bound=Response)


def _no_store(response: _R) -> _R:
    response.headers["Cache-Control"] = "no-store"
    return response


def _gif() -> FlaskResponse:
    # Flask's own class: Flask-Limiter's on_breach keeps only a flask.Response.
    return _no_store(current_app.response_class(GIF, mimetype="image/gif"))


def _pixel_over_limit(limit: RequestLimit) -> FlaskResponse:
    """Over PIXEL_RATE_LIMIT a pixel still answers with its image (a mail client must never show
    a broken one) but records nothing, as the view never runs."""
    return _gif()


@bp.post("/t/view/<offer_id>")
@limiter.limit(beacon_rate_limit)
def view_beacon(offer_id: str) -> Response:
    """navigator.sendBeacon from the landing page: ref and utm_* in the body."""
    if catalog.offer(offer_id) is None:
        abort(404)
    check_origin(request)
    body = read_json(request) if request.is_json else request.form
    if not isinstance(body, Mapping):
        body = {}
    if not is_bot(request.user_agent.string):
        utm = {key: body.get(key, "") for key in VIEW_UTM}
        record_view(offer_id, str(body.get("ref", "")), utm, datetime.now(UTC))
    return _no_store(Response(status=204))


@bp.get("/t/view/<offer_id>.gif")
@limiter.limit(pixel_rate_limit, on_breach=_pixel_over_limit)
def view_pixel(offer_id: str) -> Response:
    """The no-JavaScript fallback: an image whose request is the view (UTM from the page URL)."""
    if catalog.offer(offer_id) is None:
        abort(404)
    if not is_bot(request.user_agent.string):
        page = request.referrer or ""
        try:
            query = parse_qs(urlsplit(page).query)
        except ValueError:
            query = {}
        utm = {key: (query.get(key) or [""])[0] for key in VIEW_UTM}
        record_view(offer_id, "", utm, datetime.now(UTC))
    return _gif()


def _refused(status: int, reason: str) -> tuple[str, int]:
    return render_template("admin/link_refused.html", reason=reason), status


def _payload(token: str) -> dict | None:
    try:
        payload = read_token("click", token)
    except TokenExpired as e:
        payload = e.payload
    except TokenInvalid:
        return None
    return payload if isinstance(payload, dict) and isinstance(payload.get("s"), int) else None


def _record(send: Send, kind: str, data: dict) -> None:
    s = db.session()
    lead = s.get(Lead, send.lead_id)
    if lead is None or lead.status == FORGOTTEN or is_bot(request.user_agent.string):
        return
    now = datetime.now(UTC)
    data = {"send_id": send.id, "series": send.series, "step": send.step, **data}
    s.add(Event(lead_id=lead.id, offer_id=send.offer_id, kind=kind, data=data, created_at=now))
    scoring.apply_event(s, lead, kind, now)
    s.commit()


@bp.get("/c/<token>")
def click(token: str):
    """Record a click and redirect, only to a link the email's template really contains."""
    payload = _payload(token)
    url = payload.get("u") if payload else None
    if not payload or not isinstance(url, str) or _CONTROL.search(url):
        return _refused(400, "This link is damaged. Copy it again from the email.")
    send = db.session().get(Send, payload["s"])
    if send is None:
        return _refused(404, "This link is no longer available.")
    template = links.template_file(Path(current_app.config["CONTENT_PATH"]) / "emails", send)
    found = links.template_links(template.read_text(encoding="utf-8")) if template else set()
    if not links.url_allowed(url, found, own_origins(current_app.config)):
        logger.warning("click refused: send %s to a URL not in its template", send.id)
        return _refused(403, "This link does not lead anywhere we sent you.")
    _record(send, "clicked", {"url": url})
    response = redirect(url, 302)
    response.headers["Referrer-Policy"] = "no-referrer"
    return _no_store(response)


@bp.get("/t/open/<token>.gif")
@limiter.limit(
    pixel_rate_limit,
    on_breach=_pixel_over_limit,
    exempt_when=lambda: not current_app.config.get("TRACK_OPENS"),
)
def open_gif(token: str) -> Response:
    if not current_app.config.get("TRACK_OPENS"):
        abort(404)
    payload = _payload(token)
    if payload and payload.get("o") == 1:
        send = db.session().get(Send, payload["s"])
        seen = select(Event.id).where(
            Event.kind == "opened", Event.data["send_id"].as_integer() == payload["s"]
        )
        if send is not None and db.session().scalar(seen.limit(1)) is None:
            _record(send, "opened", {})
    return _gif()
