"""POST /api/events: a CRM or shop reports a conversion or tags a lead, with a bearer token."""

from __future__ import annotations

import functools
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import yaml
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from formserver.core import db
from formserver.core.config import PROJECT_ROOT
from formserver.core.guards import api_auth_failure_rate_limit, limiter
from formserver.core.jsonbody import read_json
from formserver.core.models import Event, Lead
from formserver.domain import events as hooks
from formserver.domain import tags
from formserver.mail.handoff import after_commit

logger = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api")

SPEC = PROJECT_ROOT / "docs" / "openapi.yaml"
# A JSON pointer into the spec, so the body is checked against the very schema clients read.
BODY_SCHEMA = "/paths/~1api~1events/post/requestBody/content/application~1json/schema"
# The schema decides what is wrong; these words tell an integrator how to put it right.
FIELD_ERRORS = {
    "email": "a valid email address is required",
    "event": 'must be "converted"',
    "value": "must be a number from -10^12 to 10^12, or null",
    "offer": "must be an offer id (lower-case letters, digits, -)",
    "tag": "must be a non-empty string of letters, digits, : _ . + -",
}
EITHER = 'give either "event": "converted" or "tag", not both or neither'


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


@functools.cache
def openapi_spec() -> dict[str, Any]:
    """docs/openapi.yaml as data, read once: it validates bodies and is served as JSON."""
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


@functools.cache
def body_validator() -> jsonschema_rs.Validator:
    """The events body's schema from docs/openapi.yaml, loaded once, its $refs resolved there."""
    uri = "urn:lodestone:openapi"
    registry = jsonschema_rs.Registry([(uri, openapi_spec())])
    # Formats are annotations in 2020-12; email-validator checks (and normalises) the address.
    return jsonschema_rs.validator_for(
        {"$ref": f"{uri}#{BODY_SCHEMA}"}, registry=registry, validate_formats=False
    )


def _schema_errors(body: Any) -> dict[str, list[str]]:
    """Each schema violation in ``body``, filed under the key it concerns ("body" for the whole)."""
    errors: dict[str, list[str]] = {}
    for error in body_validator().iter_errors(body):
        kind = error.kind
        if error.instance_path:
            key = str(error.instance_path[0])
            message = FIELD_ERRORS.get(key, error.message)
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            key, message = kind.property, FIELD_ERRORS.get(kind.property, error.message)
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            key, message = "body", f"unknown key(s): {', '.join(sorted(kind.unexpected))}"
        elif not isinstance(body, dict):
            # One plain reason: the oneOf failures under it would only repeat it.
            return {"body": ["must be a JSON object"]}
        elif isinstance(
            kind,
            jsonschema_rs.ValidationErrorKind.OneOfNotValid
            | jsonschema_rs.ValidationErrorKind.OneOfMultipleValid,
        ):
            key, message = "event", EITHER
        else:
            key, message = "body", error.message
        if message not in errors.setdefault(key, []):
            errors[key].append(message)
    return errors


def validate(body: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The cleaned request, or field errors: the spec's schema, then what a schema cannot say."""
    errors = _schema_errors(body)
    if not isinstance(body, dict):
        return {}, errors
    from email_validator import EmailNotValidError, validate_email  # loaded by the first call

    clean: dict[str, Any] = {}
    if "email" not in errors:  # the schema has seen a string here
        try:
            clean["email"] = validate_email(
                body["email"].strip(), check_deliverability=False
            ).normalized.lower()
        except EmailNotValidError as e:
            errors["email"] = [f"{FIELD_ERRORS['email']} ({e})"]
    if "event" in body:
        clean |= {
            "event": body["event"],
            "value": body.get("value"),
            "offer": body.get("offer") or "",
        }
    elif isinstance(body.get("tag"), str) and "tag" not in errors:
        # Normalising can leave nothing ("!!!"), which no pattern in the schema says exactly.
        clean["tag"] = tags.normalize_tag(body["tag"])
        if not clean["tag"]:
            errors["tag"] = [FIELD_ERRORS["tag"]]
    return clean, errors


@bp.post("/events")
# Only refused tokens count: a busy CRM is never slowed, a token-guesser gets 429s.
@limiter.limit(api_auth_failure_rate_limit, deduct_when=lambda r: r.status_code == 401)
def post_event() -> Response | tuple[Response, int]:
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
    after_commit((), hook_ids, f"a conversion of lead {lead.id}")
    logger.info("conversion recorded for lead %s", lead.id)
    return jsonify(status="ok", event_id=event.id, score=lead.score), 201


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """This description of the public endpoints, as JSON, for client generators and tools."""
    # json.dumps keeps the document's order (jsonify would sort the keys); clients read it top-down.
    body = json.dumps(openapi_spec(), ensure_ascii=False)
    return current_app.response_class(body, mimetype="application/json")


@bp.errorhandler(HTTPException)
def json_error(e: HTTPException) -> Response:
    """The API answers in JSON even when the body is too large or the method is wrong."""
    return _error(e.code or 500, e.description or e.name)
