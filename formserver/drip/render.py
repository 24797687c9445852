"""Render one email at send time: Jinja merge fields, Markdown, the themed layout, inlined CSS."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
import markdown
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from formserver.drip.series import Email
from formserver.errors import SeriesError
from formserver.fields import FIELDS

MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    preheader: str
    html: str
    text: str


def lead_context(
    email: str,
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    attributes: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Every lead field a template may name, present even when empty (so ``or`` defaults work)."""
    values = {name: "" for name in FIELDS} | dict(attributes or {})
    return values | {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "company": company,
    }


# Templates are content, edited by marketers: sandboxed, and an unknown name is an error.
_html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
_text_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@lru_cache(maxsize=512)
def _compiled(autoescape: bool, source: str) -> Template:
    """Templates compile once per text: an edited file is new text, so edits still apply."""
    return (_html_env if autoescape else _text_env).from_string(source)


def _render(env: Environment, source: str, context: dict[str, Any], path: Path, line: int) -> str:
    try:
        return _compiled(env is _html_env, source).render(context)
    except TemplateError as e:
        where = line + (getattr(e, "lineno", None) or 1) - 1
        raise SeriesError(path, f"template error: {e}", where) from e


_converters = threading.local()


def to_html(source: str) -> str:
    """Markdown to HTML with one converter per thread, reset between emails (cheaper than new)."""
    converter = getattr(_converters, "md", None)
    if converter is None:
        converter = _converters.md = markdown.Markdown(extensions=["tables", "sane_lists"])
    return converter.reset().convert(source)


def plain_text(markdown_source: str) -> str:
    """A readable text part from the same Markdown: links become ``text (url)``."""
    text = MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", markdown_source)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_email(
    email: Email, context: dict[str, Any], theme_templates: Path, site_name: str, marketing: bool
) -> RenderedEmail:
    """Subject, preheader, HTML (layout + inlined CSS) and text, all from one template."""
    subject = _render(_text_env, email.subject, context, email.path, 1).strip()
    preheader = _render(_text_env, email.preheader, context, email.path, 1).strip()
    body_md_html = _render(_html_env, email.body, context, email.path, email.body_line)
    body_md_text = _render(_text_env, email.body, context, email.path, email.body_line)
    content = Markup(to_html(body_md_html))
    name = "email/bare.html" if email.headers.get("layout", "").lower() == "none" else None
    layout = _layout_env(str(theme_templates)).get_template(name or "email/layout.html")
    html = layout.render(
        content=content,
        subject=subject,
        preheader=preheader,
        site_name=site_name,
        marketing=marketing,
        offer_title=context["offer"]["title"],
        unsubscribe_url=context.get("unsubscribe_url", ""),
        preferences_url=context.get("preferences_url", ""),
    )
    footer = ""
    if marketing:
        footer = (
            f"\n--\nUnsubscribe: {context['unsubscribe_url']}\n"
            f"Email preferences: {context['preferences_url']}\n"
        )
    return RenderedEmail(
        subject, preheader, css_inline.inline(html), plain_text(body_md_text) + footer
    )


_layouts: dict[str, Environment] = {}


def _layout_env(folder: str) -> Environment:
    if folder not in _layouts:
        _layouts[folder] = Environment(
            loader=FileSystemLoader(folder), autoescape=True, auto_reload=True
        )
    return _layouts[folder]
