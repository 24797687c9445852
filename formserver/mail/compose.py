"""What one send needs to be rendered: its template, merge fields, links and envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from formserver.content.errors import SeriesError
from formserver.content.series import Email, Series, get_series
from formserver.core import site_settings
from formserver.core.models import Lead, Send
from formserver.core.tokens import make_token
from formserver.mail.render import RenderedEmail, lead_context, render_email
from formserver.mail.smtp import Envelope


def link(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def lead_links(lead: Lead) -> dict[str, str]:
    """Unsubscribe and preferences links: signed, scoped, and valid for good."""
    return {
        "unsubscribe_url": link(f"/unsubscribe/{make_token('unsubscribe', {'l': lead.id})}"),
        "preferences_url": link(f"/preferences/{make_token('preferences', {'l': lead.id})}"),
    }


def merge_fields(lead: Lead, offer: Any, series: Series, extra: dict[str, str]) -> dict[str, Any]:
    """Every name a template may use; anything else is an error at render time."""
    return {
        "lead": lead_context(
            lead.email, lead.first_name, lead.last_name, lead.company, lead.attributes
        ),
        "offer": {"id": offer.id, "title": offer.title} if offer else {"id": "", "title": ""},
        "series": {"title": series.title, "name": series.name},
        "download_url": "",
        **lead_links(lead),
        **extra,
    }


def _template(send: Send, series: Series) -> Email:
    if send.kind == "confirm":
        if series.confirm is None:
            raise SeriesError(series.path / "confirm.md", "missing: needed for double opt-in")
        return series.confirm
    # A fresh download link ("link") is the asset email again.
    number = 0 if send.kind == "link" else send.step if send.step is not None else -1
    step = series.step(number)
    if step is None:
        raise SeriesError(series.path, f"step {send.step} no longer exists")
    return step


def compose(send: Send, lead: Lead) -> tuple[RenderedEmail, Envelope]:
    """Render ``send`` for ``lead`` as the templates are on disk now."""
    from formserver.core import catalog
    from formserver.mail import links

    cfg = current_app.config
    series = get_series(Path(cfg["CONTENT_PATH"]) / "emails", send.series)
    offer = catalog.offer(send.offer_id)
    extra: dict[str, str] = {}
    if offer is not None:
        payload = {"l": lead.id, "o": offer.id, "a": offer.asset_filename}
        extra["download_url"] = link(f"/download/{make_token('download', payload)}")
    if send.kind == "confirm":
        extra["confirm_url"] = link(
            f"/confirm/{make_token('confirm', {'l': lead.id, 's': send.id})}"
        )
    email = _template(send, series)
    marketing = send.kind == "step" and (send.step or 0) > 0
    context = merge_fields(lead, offer, series, extra)
    site = site_settings.context()["SITENAME"] or "Lodestone"
    rendered = render_email(email, context, Path(cfg["THEME_PATH"]) / "templates", site, marketing)
    if marketing:
        html = links.with_open_pixel(links.track_links(rendered.html, send.id), send.id)
        rendered = RenderedEmail(rendered.subject, rendered.preheader, html, rendered.text)
    host = urlsplit(cfg["PUBLIC_URL"]).hostname or "localhost"
    envelope = Envelope(
        to=lead.email,
        from_name=series.from_name,
        from_email=series.from_email,
        reply_to=series.reply_to,
        list_id=f"{series.title} <{series.name}.{host}>",
        unsubscribe_url=context["unsubscribe_url"],
        message_key=f"send-{send.id}",
        marketing=marketing,
    )
    return rendered, envelope
