"""Rules about a request that every entry point shares: the answer's format, allowed origins."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Request, request

from formserver.core.urls import origin

logger = logging.getLogger(__name__)

_SEPARATORS = re.compile(r"[\s,]+")


def wants_json(req: Request | None = None) -> bool:
    """True when the client ranks JSON above HTML, or sent JSON and ranks neither higher.

    A browser's navigation ranks HTML first, our site's script asks for JSON, and ``fetch``'s
    default ``*/*`` ranks both alike, when the body it sent decides.
    """
    req = request if req is None else req
    accept = req.accept_mimetypes
    json_quality, html_quality = accept["application/json"], accept["text/html"]
    if json_quality != html_quality:
        return json_quality > html_quality
    return req.is_json


def _listed(value: str | Iterable[str] | None) -> list[str]:
    # FORMSERVER_ALLOWED_ORIGINS that is not JSON arrives as one string: split it, as iterating
    # it would give one "origin" per character.
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in _SEPARATORS.split(value) if part]
    return [str(part) for part in value]


def allowed_origins(config: Mapping[str, Any]) -> frozenset[str]:
    """The origins that may post our forms and read their answers: ALLOWED_ORIGINS, PUBLIC_URL."""
    urls = [*_listed(config.get("ALLOWED_ORIGINS")), config.get("PUBLIC_URL") or ""]
    return frozenset(o for o in map(origin, urls) if o)


def origin_allowed(url: str, config: Mapping[str, Any]) -> bool:
    """True when ``url`` (an ``Origin`` or ``Referer``) is on one of the allowed origins."""
    sent = origin(url)
    return bool(sent) and sent in allowed_origins(config)


def own_origins(config: Mapping[str, Any]) -> frozenset[str]:
    """Our own sites: the allowed origins and the site itself (a click may always go there)."""
    site = origin(config.get("SITE_URL") or "")
    return allowed_origins(config) | ({site} if site else frozenset())
