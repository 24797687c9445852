"""What a URL names, for every rule that compares sites: its origin and its host."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name is at most 253 characters; anything longer is not one, and is not kept whole.
MAX_HOST = 253


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL as a browser sends it in ``Origin``, else "".

    Lower-cased, without a path, a trailing slash, user info or the scheme's default port, so a
    configured ``https://Example.com:443/`` and a sent ``https://example.com`` are one origin.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError):  # a port out of range, a bad IPv6 literal, not text
        return ""
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return ""
    scheme = parts.scheme.lower()
    host = parts.hostname  # urlsplit lower-cases it
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    suffix = f":{port}" if port and port != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


def host(url: str) -> str:
    """The lower-cased host name of a URL (a referrer, a link), or "" when it names none."""
    try:
        name = urlsplit(url.strip()).hostname if url else None
    except (ValueError, AttributeError):
        return ""
    return (name or "")[:MAX_HOST]
