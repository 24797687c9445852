"""Every error answered as a themed page or JSON, never a traceback; a dead database is 503."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from formserver.core.requests import wants_json

logger = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    410: "Link expired",
    413: "Too much data",
    422: "Please check your input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def render_error(status: int, message: str):
    """One error answer in the client's language: JSON for scripts, the site's theme for people."""
    if wants_json():
        return jsonify(error=message), status
    title = TITLES.get(status, "Error")
    return render_template("error.html", status=status, title=title, message=message), status


def _http(e: HTTPException):
    if e.response is not None:  # the raiser built the answer (the tracking pixel's image)
        return e.response
    if e.code == 429:
        return render_error(429, "Too many requests from your address. Please wait a minute.")
    body, status = render_error(e.code or 500, e.description or TITLES.get(e.code or 500, "Error"))
    return body, status, allow_header(e)


def allow_header(e: HTTPException) -> dict[str, str]:
    """The ``Allow`` header a 405 must carry (RFC 9110), which our own error page would drop."""
    # Werkzeug puts it in the exception's headers; we render the body, so copy it across.
    if isinstance(e, MethodNotAllowed) and e.valid_methods:
        return {"Allow": ", ".join(e.valid_methods)}
    return {}


def _database(e: Exception):
    logger.error("database unavailable: %s", e.__class__.__name__)
    return render_error(503, "We are having a short outage. Please try again in a minute.")


def _bad_value(e: DataError):
    # The database refused a value the request carried (a NUL, a number out of range): the
    # input is at fault, not the server; the routes check their input, this is the last net.
    logger.warning("database refused a value: %s", str(e.orig).splitlines()[0][:200])
    return render_error(400, "A value in your request cannot be used.")


def _unexpected(e: InternalServerError):
    logger.error("unhandled error", exc_info=e.original_exception or e)
    return render_error(500, "Something went wrong on our side. Nothing you sent was lost.")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(OperationalError, _database)
    app.register_error_handler(DBAPIError, _database)
    app.register_error_handler(DataError, _bad_value)
    app.register_error_handler(InternalServerError, _unexpected)
