"""Links in a sent email: click tracking through signed /c/ links, and the open pixel."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from formserver.core.tokens import make_token
from formserver.core.urls import origin
from formserver.mail.html_links import rewrite_links


def tracked_url(send_id: int, url: str) -> str:
    """The signed /c/ link that records a click on ``url`` in send ``send_id``, then goes there.

    mailto:, anchors and our own server's links (download, unsubscribe, ...) are left alone.
    """
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    if origin(url) in ("", origin(public)):
        return url
    return f"{public}/c/{make_token('click', {'s': send_id, 'u': url})}"


def track_links(html_body: str, send_id: int) -> str:
    """Rewrite every <a href> of a rendered HTML email through tracked_url (a real HTML parser)."""
    return rewrite_links(html_body, lambda url: tracked_url(send_id, url))


def open_pixel(send_id: int) -> Markup:
    """An <img> that records an open, only when TRACK_OPENS is on; else empty markup."""
    if not current_app.config.get("TRACK_OPENS"):
        return Markup("")
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    token = make_token("click", {"s": send_id, "o": 1})
    return Markup('<img src="{}" width="1" height="1" alt="">').format(
        f"{public}/t/open/{token}.gif"
    )


def with_open_pixel(html_document: str, send_id: int) -> str:
    """The document with the open pixel (when TRACK_OPENS is on) just before ``</body>``.

    Plain string concatenation: adding a ``Markup`` to the string ``"</body>"`` would escape the
    tag, and every email showed a literal ``</body>`` (fixed here, tested with the sink).
    """
    return html_document.replace("</body>", f"{open_pixel(send_id)}</body>", 1)
