"""The text part of an email: its HTML turned into readable text by inscriptis (maintained).

The HTML comes from the marketer's Markdown with merge fields still opaque tokens, so a lead's
value is put back only after this conversion, verbatim (see ``render.compile_email``).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import lxml.html

logger = logging.getLogger(__name__)

# Elements whose direct text an HTML table model moves out of order (before the rows).
_TABLE_PARTS = {"table", "thead", "tbody", "tfoot", "tr"}
_CELLS = {"td", "th"}


def html_to_text(html: str, blocks: str) -> str:
    """Readable text from an email's body HTML: links as ``text (url)``, paragraphs apart.

    ``blocks`` is the pattern of the block-tag tokens (``{% if %}`` …): one written between
    table rows is kept with the next row's first cell, so a condition still wraps its row.
    """
    # Imported where mail is composed, not at start-up (lxml is large).
    import lxml.html
    from inscriptis.html_engine import Inscriptis
    from inscriptis.model.config import ParserConfig

    if not html.strip():
        return ""
    tree = lxml.html.document_fromstring(html)
    _keep_block_tokens_in_cells(tree, re.compile(blocks))
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip()
        # An autolink's text is its URL already: "https://x (https://x)" says nothing more.
        if href and not href.startswith("#") and link.text_content().strip() != href:
            link.tail = f" ({href.removeprefix('mailto:')})" + (link.tail or "")
    return str(Inscriptis(tree, ParserConfig()).get_text())


def _keep_block_tokens_in_cells(tree: lxml.html.HtmlElement, blocks: re.Pattern[str]) -> None:
    """Move block tokens written between table rows into the next cell (else the previous one)."""
    for part in tree.iter(*_TABLE_PARTS):
        # The part's own text, then each child's tail: the text between its children.
        holders = [(part, "text", part[0] if len(part) else None)]
        holders += [(child, "tail", child.getnext()) for child in part]
        for holder, attr, after in holders:
            text = getattr(holder, attr) or ""
            found = "".join(blocks.findall(text))
            if not found:
                continue
            if (cell := _first_cell(after)) is not None:
                cell.text = found + (cell.text or "")
            elif (cell := _last_cell(part)) is not None:
                if len(cell):
                    cell[-1].tail = (cell[-1].tail or "") + found
                else:
                    cell.text = (cell.text or "") + found
            else:
                continue  # no cell to hold it: left where it is, never dropped
            setattr(holder, attr, blocks.sub("", text))


def _first_cell(element: lxml.html.HtmlElement | None) -> lxml.html.HtmlElement | None:
    """The first td/th at or after ``element`` in document order within its table."""
    while element is not None:
        if element.tag in _CELLS:
            return element
        cell = next(element.iter(*_CELLS), None)
        if cell is not None:
            return cell
        element = element.getnext()
    return None


def _last_cell(part: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    cells = list(part.iter(*_CELLS))
    return cells[-1] if cells else None
