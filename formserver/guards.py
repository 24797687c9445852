"""Defences for public endpoints with no session: origin allow-list, rate limits, value checks."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased; empty when it has none."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request) -> None:
    """403 unless ``Origin`` (else ``Referer``) is allowed; requests with neither pass.

    Browsers that strip both (strict referrer policies, privacy extensions) still post the
    form without JavaScript; refusing them would lose real leads, and a forged header is no
    harder to send than none, so the rate limit and honeypot carry the rest.
    """
    origin = request.headers.get("Origin", "")
    sent = origin if origin and origin != "null" else request.headers.get("Referer", "")
    if not sent:
        return
    allowed = {origin_of(o) for o in current_app.config["ALLOWED_ORIGINS"]}
    if origin_of(sent) not in allowed:
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
