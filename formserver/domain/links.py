"""Which URLs an email may send a click to: the links written in its template, and our own site."""

from __future__ import annotations

import html
import re
from collections.abc import Set
from pathlib import Path

from formserver.core.models import Send
from formserver.core.urls import origin

SERIES_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_JINJA = re.compile(r"\{\{.*?\}\}", re.S)
HOLE = "\x00"  # stands for one Jinja expression inside a link
_CANDIDATES = (
    re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)"),  # [text](url "title")
    re.compile(r"^\s*\[[^\]]+\]:\s*<?([^\s>]+)>?", re.M),  # [ref]: url
    re.compile(r"<(https?://[^>\s]+)>"),  # <https://...>
    re.compile(r"href\s*=\s*[\"']([^\"']+)[\"']", re.I),  # <a href="...">
    re.compile(r"(https?://[^\s<>\"')\]]+)"),  # a bare URL
)


def template_file(emails_dir: Path, send: Send) -> Path | None:
    """The Markdown file a send was rendered from, when it is a series email."""
    if not SERIES_NAME.match(send.series or ""):
        return None
    folder = emails_dir / send.series
    if send.kind == "confirm":
        path = folder / "confirm.md"
        return path if path.is_file() else None
    if send.step is None:
        return None
    return next(iter(sorted(folder.glob(f"{send.step:02d}-*.md"))), None)


def template_links(text: str) -> set[str]:
    """Every link target in a Markdown/Jinja template; each {{ expression }} becomes a HOLE."""
    holed = _JINJA.sub(HOLE, text)
    found: set[str] = set()
    for pattern in _CANDIDATES:
        for match in pattern.finditer(holed):
            found.add(html.unescape(match.group(1)).rstrip(".,;:!?"))
    return found


def _matches(url: str, link: str) -> bool:
    if HOLE not in link:
        return url == link
    literal_head = link.split(HOLE, 1)[0]
    # A hole before the host could point anywhere: such links only reach our own origins.
    if not re.match(r"^https?://[^/?#\x00]+[/?#]", literal_head):
        return False
    pattern = ".*".join(re.escape(part) for part in link.split(HOLE))
    return re.fullmatch(pattern, url, re.S) is not None


def url_allowed(url: str, links: Set[str], own_origins: Set[str]) -> bool:
    """True when ``url`` is one of the template's links, or on one of our own origins."""
    url_origin = origin(url)
    if not url_origin:
        return False
    if url_origin in own_origins:
        return True
    return any(_matches(url, link) for link in links)
