"""Security headers on every answer: a strict CSP, no framing, no sniffing, no leaked tokens."""

from __future__ import annotations

import logging
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Request, current_app, request
from werkzeug.wrappers import Response

from formserver.core import site_settings
from formserver.core.urls import origin

logger = logging.getLogger(__name__)

HSTS = "max-age=31536000; includeSubDomains"
# These pages show an email's HTML in a sandboxed srcdoc frame, which inherits the page's policy;
# an email's look lives in inline styles and remote images, so only these pages allow them.
EMAIL_PREVIEW_ENDPOINTS = frozenset({"outbox.show", "series_pages.show"})


def _sources(*sources: str) -> str:
    """Source expressions without blanks or repeats, in order."""
    return " ".join(dict.fromkeys(s for s in sources if s))


@lru_cache(maxsize=8)  # the same few strings for every answer: built once each, not per request
def content_security_policy(site_url: str, public_url: str, email_preview: bool = False) -> str:
    """The policy for a page of ours whose theme files come from ``site_url``.

    The theme's CSS, script and images are on the static site's host in production (Pelican's
    absolute SITEURL), and a form's 303 goes to ``public_url``: both are allowed by name, as
    'self' alone would refuse them when the form server has a host of its own.
    """
    site, public = origin(site_url), origin(public_url)
    inline = "'unsafe-inline'" if email_preview else ""
    remote_images = "https:" if email_preview else ""
    directives = {
        "default-src": "'self'",
        "script-src": _sources("'self'", site),
        "style-src": _sources("'self'", site, inline),
        "img-src": _sources("'self'", "data:", site, remote_images),
        "font-src": _sources("'self'", site),
        "connect-src": _sources("'self'", public),
        "form-action": _sources("'self'", public),
        "base-uri": "'none'",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def carries_token(req: Request) -> bool:
    """True for pages whose URL holds a signed link (thank-you, download, confirm, unsubscribe)."""
    return "token" in (req.view_args or {})


def add_security_headers(response: Response) -> Response:
    """after_request: the headers every answer carries, unless a view set its own on purpose."""
    config = current_app.config
    site_url = site_settings.context().get("SITEURL") or ""
    preview = request.endpoint in EMAIL_PREVIEW_ENDPOINTS
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(site_url, config["PUBLIC_URL"], email_preview=preview),
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # A token in the URL must not reach another site through Referer, not even its origin part.
    policy = "no-referrer" if carries_token(request) else "strict-origin-when-cross-origin"
    headers.setdefault("Referrer-Policy", policy)
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for browsers without CSP 2
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    # Over plain HTTP (development) browsers ignore HSTS; only promise it where it is true.
    if urlsplit(config["PUBLIC_URL"]).scheme == "https":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Register the hook; register it first, so it runs after every other hook and defers to it."""
    app.after_request(add_security_headers)
