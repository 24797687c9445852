"""POST /api/events: a CRM or shop reports a conversion or tags a lead, with a bearer token."""

from __future__ import annotations

import hmac
import logging
import math
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from formserver.content.offers import OFFER_ID
from formserver.core import db
from formserver.core.guards import api_auth_failure_rate_limit, limiter
from formserver.core.jsonbody import read_json
from formserver.core.models import Event, Lead
from formserver.domain import events as hooks
from formserver.domain import tags, webhooks

logger = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api")

EVENTS = ("converted",)
MAX_VALUE = 10**12


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify(error=message, **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lodestone"'
    return response


def authorized(header: str | None) -> bool:
    """True when the Authorization header carries one of API_TOKENS (constant-time compare)."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    given_bytes = given.strip().encode()
    ok = False
    for token in current_app.config.get("API_TOKENS") or []:
        # Compare with every token, without stopping early, so timing says nothing.
        ok |= hmac.compare_digest(given_bytes, str(token).encode())
    return ok


def validate(body: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The cleaned request, or field errors; accepted keys: email, event, value, offer, tag."""
    errors: dict[str, list[str]] = {}
    if not isinstance(body, dict):
        return {}, {"body": ["must be a JSON object"]}
    clean: dict[str, Any] = {}
    unknown = sorted(set(body) - {"email", "event", "value", "offer", "tag"})
    if unknown:
        errors["body"] = [f"unknown key(s): {', '.join(unknown)}"]
    email = body.get("email")
    from email_validator import EmailNotValidError, validate_email  # loaded by the first call

    try:
        if not isinstance(email, str):
            raise EmailNotValidError("must be a string")
        clean["email"] = validate_email(
            email.strip(), check_deliverability=False
        ).normalized.lower()
    except EmailNotValidError as e:
        errors["email"] = [f"a valid email address is required ({e})"]
    event, tag = body.get("event"), body.get("tag")
    if (event is None) == (tag is None):
        errors["event"] = ['give either "event": "converted" or "tag", not both or neither']
    elif event is not None:
        if event not in EVENTS:
            errors["event"] = [f"must be one of: {', '.join(EVENTS)}"]
        clean["event"] = event
        value = body.get("value")
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or abs(value) > MAX_VALUE
        ):
            errors["value"] = ["must be a number"]
        clean["value"] = value
        offer = body.get("offer", "")
        if not isinstance(offer, str) or (offer and not OFFER_ID.match(offer)):
            errors["offer"] = ["must be an offer id (lower-case letters, digits, -)"]
        clean["offer"] = offer if isinstance(offer, str) else ""
    else:
        clean["tag"] = tags.normalize_tag(tag) if isinstance(tag, str) else ""
        if not clean["tag"]:
            errors["tag"] = ["must be a non-empty string of letters, digits, : _ . + -"]
    return clean, errors


@bp.post("/events")
# Only refused tokens count: a busy CRM is never slowed, a token-guesser gets 429s.
@limiter.limit(api_auth_failure_rate_limit, deduct_when=lambda r: r.status_code == 401)
def post_event() -> Response:
    """Record a conversion (201) or add a tag (201 new, 200 already there)."""
    if not authorized(request.headers.get("Authorization")):
        return _error(401, "a valid bearer token is required")
    if not request.is_json:
        return _error(415, "send application/json")
    body = read_json(request)  # a 400 in JSON, through json_error, when it is not valid
    clean, errors = validate(body)
    if errors:
        return _error(422, "the request is not valid", errors=errors)
    s = db.session()
    lead = s.scalar(select(Lead).where(Lead.email == clean["email"]))
    if lead is None:
        return _error(404, "no lead has this email address")
    now = datetime.now(UTC)
    if "tag" in clean:
        added = tags.add_tag(s, lead, clean["tag"], "api", now)
        s.commit()
        return jsonify(status="ok", tag=clean["tag"], added=added), 201 if added else 200
    data = {"value": clean["value"]} if clean["value"] is not None else {}
    event = Event(
        lead_id=lead.id, offer_id=clean["offer"], kind="converted", data=data, created_at=now
    )
    s.add(event)
    hook_ids = hooks.on_event(s, lead, "converted", now, data)
    s.commit()
    webhooks.queue_deliveries(hook_ids)
    logger.info("conversion recorded for lead %s", lead.id)
    return jsonify(status="ok", event_id=event.id, score=lead.score), 201


@bp.errorhandler(HTTPException)
def json_error(e: HTTPException) -> Response:
    """The API answers in JSON even when the body is too large or the method is wrong."""
    return _error(e.code or 500, e.description or e.name)
