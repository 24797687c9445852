"""Defences for public endpoints with no session: origin allow-list, rate limits, value checks."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.routing import IntegerConverter, Map

from formserver.core.requests import origin_allowed

limiter = Limiter(key_func=get_remote_address)

# Ids are INTEGER columns, 32-bit on PostgreSQL (64-bit on SQLite): a larger number in a URL
# can name no row, and would reach the database only to be refused (a 500 or 503 before).
MAX_ID = 2**31 - 1


class BoundedInt(IntegerConverter):
    """``<int:...>`` limited to what an id column holds, so a huge id is a 404, not an error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def check_origin(request: Request) -> None:
    """403 unless ``Origin`` (else ``Referer``) is allowed; requests with neither pass.

    Browsers that strip both (strict referrer policies, privacy extensions) still post the
    form without JavaScript; refusing them would lose real leads, and a forged header is no
    harder to send than none, so the rate limit, honeypot and time-trap carry the rest.
    ``Origin: null`` (sent under ``Referrer-Policy: no-referrer``, from sandboxed frames and
    local files) counts as no Origin unless ALLOW_NULL_ORIGIN is off, when it is refused.
    """
    origin = request.headers.get("Origin", "")
    if origin == "null" and not current_app.config["ALLOW_NULL_ORIGIN"]:
        abort(403, description="This form can only be sent from our website.")
    sent = origin if origin and origin != "null" else request.headers.get("Referer", "")
    if not sent:
        return
    if not origin_allowed(sent, current_app.config):
        abort(403, description="This form can only be sent from our website.")


def client_ip(request: Request) -> str | None:
    """The visitor's address as the IP_MODE setting allows: full, anonymized, or none."""
    mode = current_app.config["IP_MODE"]
    raw = request.remote_addr or ""
    if mode == "none" or not raw:
        return None
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if mode == "full":
        return str(ip)
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def form_rate_limit() -> str:
    return current_app.config["FORM_RATE_LIMIT"]


def stamp_rate_limit() -> str:
    return current_app.config["STAMP_RATE_LIMIT"]


def beacon_rate_limit() -> str:
    return current_app.config["BEACON_RATE_LIMIT"]


def pixel_rate_limit() -> str:
    return current_app.config["PIXEL_RATE_LIMIT"]


def api_auth_failure_rate_limit() -> str:
    return current_app.config["API_AUTH_FAILURE_RATE_LIMIT"]


def refuse_nul_in_url() -> None:
    """400 for a NUL character in the path or query: no field holds one, PostgreSQL stores none."""
    if "\x00" in request.path or any(
        "\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)
    ):
        abort(400, description="The address contains a NUL character, which is never valid.")


# A Redis that stops answering (not just refusing) must not hold a visitor's request for long.
REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def init_app(app: Flask) -> None:
    """Rate limits read Flask-Limiter's own RATELIMIT_* settings (enabled, storage URI).

    While the storage is unreachable, limits are counted in each process's memory (the
    in-memory fallback) and retried against the storage with backoff, so a Redis outage never
    turns a form post into an error.
    """
    if urlsplit(app.config["RATELIMIT_STORAGE_URI"]).scheme.startswith("redis"):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", REDIS_TIMEOUTS)
    limiter.init_app(app)
    # Before any blueprint: a rule reads its converter when it is added.
    app.url_map.converters["int"] = BoundedInt
    app.before_request(refuse_nul_in_url)
