"""The links of an HTML email, found and rewritten by a real HTML parser (the standard library's).

One implementation for the click tracker (``mail.links.track_links``) and for ``drip lint``: an
``<a href>`` inside a comment, ``<style>`` or ``<script>`` is not a link, an attribute may be
quoted either way or not at all, and a tag may span lines, which a regex over the text got wrong.
Stdlib only, so ``drip lint`` still starts without the database or the app's heavy imports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    """One ``<a href>``: its unescaped URL, its 1-based line, and where its start tag sits."""

    url: str
    line: int
    start: int
    end: int
    attrs: tuple[tuple[str, str | None], ...]
    self_closing: bool


class _LinkFinder(HTMLParser):
    """Collects every ``<a>`` start tag that has an ``href``, with its offsets in the source."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        # HTMLParser reports (line, column) counting "\n" only; turn that into string offsets.
        self._line_starts = [0]
        for i, ch in enumerate(source):
            if ch == "\n":
                self._line_starts.append(i + 1)
        self.links: list[Link] = []

    def _add(self, tag: str, attrs: list[tuple[str, str | None]], self_closing: bool) -> None:
        href = next((v for k, v in attrs if k == "href"), None)
        if tag != "a" or href is None:
            return
        line, column = self.getpos()
        start = self._line_starts[line - 1] + column
        text = self.get_starttag_text() or ""
        self.links.append(
            Link(href.strip(), line, start, start + len(text), tuple(attrs), self_closing)
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add(tag, attrs, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add(tag, attrs, True)


def find_links(source: str) -> list[Link]:
    """Every ``<a href>`` of an HTML document (or of Markdown with inline HTML), in order."""
    finder = _LinkFinder(source)
    finder.feed(source)
    finder.close()
    return finder.links


def _attribute(value: str) -> str:
    """A double-quoted attribute value: only ``&`` and ``"`` need escaping there."""
    return value.replace("&", "&amp;").replace('"', "&quot;")


def _start_tag(link: Link, href: str) -> str:
    parts = ["<a"]
    for name, value in link.attrs:
        if name == "href":
            value = href
        parts.append(f" {name}" if value is None else f' {name}="{_attribute(value)}"')
    parts.append(" />" if link.self_closing else ">")
    return "".join(parts)


def rewrite_links(source: str, new_url: Callable[[str], str]) -> str:
    """``source`` with each ``<a href>`` set to ``new_url(url)``; every other byte kept as it was.

    Only a start tag whose URL changes is re-serialised (attributes in order, double-quoted).
    """
    out: list[str] = []
    pos = 0
    for link in find_links(source):
        url = new_url(link.url)
        if url == link.url:
            continue
        out.append(source[pos : link.start])
        out.append(_start_tag(link, url))
        pos = link.end
    out.append(source[pos:])
    return "".join(out)
