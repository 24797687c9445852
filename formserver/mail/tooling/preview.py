"""Render a whole series for a sample lead, as files a browser opens or as data for the admin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from formserver.content.series import Email, Series, Step
from formserver.core import site_settings
from formserver.core.models import Lead
from formserver.mail.compose import merge_fields
from formserver.mail.render import RenderedEmail, render_email

SAMPLE_LEAD = {
    "email": "sam.sample@example.com",
    "first_name": "Sam",
    "last_name": "Sample",
    "company": "Example Ltd",
    "role": "marketing",
    "company_size": "11-50",
}


@dataclass(frozen=True)
class Preview:
    """One email of a series as a lead would receive it."""

    label: str  # "00", "01", … or "confirm"
    email: Email
    rendered: RenderedEmail

    @property
    def delay(self) -> str:
        return self.email.headers.get("delay", "") if isinstance(self.email, Step) else ""


def sample_lead(path: Path | None = None) -> Lead:
    """The built-in sample lead, or one read from a JSON file of lead fields."""
    values: dict[str, Any] = dict(SAMPLE_LEAD)
    if path is not None:
        values |= {k: str(v) for k, v in json.loads(path.read_text()).items()}
    columns = {k: values.pop(k, "") for k in ("email", "first_name", "last_name", "company")}
    return Lead(id=0, attributes=values, time_zone="", status="active", **columns)


def offer_for(series: Series) -> Any:
    """The first offer that uses this series, for ``offer.*`` and the download link."""
    from formserver.core import catalog

    return next((o for o in catalog.offers().values() if o.series == series.name), None)


def render_one(email: Email, series: Series, lead: Lead, marketing: bool) -> RenderedEmail:
    offer = offer_for(series)
    extra = {"download_url": "https://example.invalid/download/sample"}
    if not isinstance(email, Step):
        extra["confirm_url"] = "https://example.invalid/confirm/sample"
    context = merge_fields(lead, offer, series, extra)
    if offer is None:
        context["offer"] = {"id": "sample", "title": series.title}
    theme = Path(current_app.config["THEME_PATH"]) / "templates"
    site = site_settings.context()["SITENAME"] or "Lodestone"
    return render_email(email, context, theme, site, marketing)


def preview_series(series: Series, lead: Lead, step: int | None = None) -> list[Preview]:
    """Every step (or one), plus confirm.md when present, rendered for ``lead``."""
    items = []
    if series.confirm is not None and step is None:
        items.append(
            Preview("confirm", series.confirm, render_one(series.confirm, series, lead, False))
        )
    for s in series.steps:
        if step is None or s.number == step:
            items.append(Preview(f"{s.number:02d}", s, render_one(s, series, lead, s.marketing)))
    return items


def write_preview(series: Series, previews: list[Preview], out: Path) -> Path:
    """``NN.html`` and ``NN.txt`` per email and an ``index.html`` listing them."""
    out.mkdir(parents=True, exist_ok=True)
    for p in previews:
        (out / f"{p.label}.html").write_text(p.rendered.html, encoding="utf-8")
        (out / f"{p.label}.txt").write_text(p.rendered.text, encoding="utf-8")
    index = out / "index.html"
    # The app's own Jinja environment (it autoescapes .html: a subject is text, never markup),
    # without render_template's context processors, which need a request a CLI run has not.
    template = current_app.jinja_env.get_template("preview/index.html")
    page = template.render(series=series, previews=previews)
    index.write_text(page, encoding="utf-8")
    return index
