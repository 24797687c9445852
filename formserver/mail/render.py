"""Render one email at send time: Markdown, the themed layout and inlined CSS, then merge fields."""

from __future__ import annotations

import re
import threading
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from formserver.content.errors import SeriesError
from formserver.content.fields import FIELDS
from formserver.content.series import Email
from formserver.mail.placeholders import Placeholders
from formserver.mail.text_part import html_to_text


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
        where = line + (getattr(e, "lineno", None) or _template_line(e)) - 1
        raise SeriesError(path, f"template error: {e}", where) from e


def _template_line(error: BaseException) -> int:
    """The template line a render-time error came from: Jinja puts it in the traceback."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "<template>"]
    return (frames[-1].lineno or 1) if frames else 1


_converters = threading.local()


def to_html(source: str, breaks: bool = False) -> str:
    """Markdown to HTML with one converter per thread, reset between emails (cheaper than new).

    ``breaks`` keeps each line break of a paragraph (Markdown's ``nl2br``): only for the text
    part, where the lines the marketer wrote (a signature, an address) stay lines.
    """
    key = "md_breaks" if breaks else "md"
    converter = getattr(_converters, key, None)
    if converter is None:
        import markdown  # where mail is composed, not at start-up

        extensions = ["tables", "sane_lists", *(["nl2br"] if breaks else [])]
        converter = markdown.Markdown(extensions=extensions)
        setattr(_converters, key, converter)
    return str(converter.reset().convert(source))


def plain_text(markdown_source: str, marks: Placeholders | None = None) -> str:
    """A readable text part from the same Markdown, converted as HTML by inscriptis.

    Links read ``text (url)``, paragraphs are apart, a paragraph's own line breaks stay, and no
    markup or entity is left; a line holding only block tags (``marks``) leaves no line behind.
    """
    blocks = marks.blocks if marks else r"(?!)"
    text = html_to_text(to_html(markdown_source, breaks=True), blocks)
    return tidy(marks.trim_block_lines(text) if marks else text)


def tidy(text: str) -> str:
    """At most one blank line in a row, and one newline at the end."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


@dataclass(frozen=True)
class CompiledEmail:
    """One email after Markdown, layout and inlined CSS: only the merge values are left to fill."""

    html: Template
    text: Template


@lru_cache(maxsize=256)
def compile_email(
    body: str, subject: str, preheader: str, layout: Template, site_name: str, marketing: bool
) -> CompiledEmail:
    """Markdown, layout and inlined CSS from the template alone, once per version of a step.

    Every Jinja construct is an opaque token while Markdown and the HTML parser run and is put
    back only in the finished HTML and text, so a lead's value never passes through Markdown:
    it is escaped text in the HTML part and verbatim text in the text part.
    """
    marks = Placeholders(body, subject, preheader)
    protected = marks.protect(body)
    content = marks.hide_blocks(marks.unwrap_paragraphs(to_html(marks.autolinks(protected))))
    unsubscribe = marks.token('{{ unsubscribe_url|default("") }}')
    preferences = marks.token('{{ preferences_url|default("") }}')
    # Markup below wraps the marketer's own template, converted, and opaque tokens: lead values
    # are not in it yet (they are filled in, escaped, by the compiled template), so nothing here
    # comes from a visitor.
    html = layout.render(
        content=Markup(content),  # nosec B704
        subject=marks.protect(subject),
        preheader=marks.protect(preheader),
        site_name=site_name,
        marketing=marketing,
        offer_title=Markup(marks.token("{{ offer.title }}")),  # nosec B704
        unsubscribe_url=Markup(unsubscribe),  # nosec B704
        preferences_url=Markup(preferences),  # nosec B704
    )
    import css_inline  # once per compiled step, not at start-up

    text = plain_text(marks.autolinks(protected), marks)
    if marketing:
        text += f"\n--\nUnsubscribe: {unsubscribe}\nEmail preferences: {preferences}\n"
    return CompiledEmail(
        _html_env.from_string(marks.restore(css_inline.inline(html))),
        _text_env.from_string(marks.restore(text)),
    )


def render_email(
    email: Email, context: dict[str, Any], theme_templates: Path, site_name: str, marketing: bool
) -> RenderedEmail:
    """Subject, preheader, HTML (layout + inlined CSS) and text, all from one template."""
    subject = _render(_text_env, email.subject, context, email.path, 1).strip()
    preheader = _render(_text_env, email.preheader, context, email.path, 1).strip()
    # Syntax errors are reported against the body alone, where the line numbers are the file's.
    try:
        _compiled(True, email.body)
    except TemplateError as e:
        where = email.body_line + (getattr(e, "lineno", None) or 1) - 1
        raise SeriesError(email.path, f"template error: {e}", where) from e
    name = "email/bare.html" if email.headers.get("layout", "").lower() == "none" else None
    layout = _layout_env(str(theme_templates)).get_template(name or "email/layout.html")
    compiled = compile_email(
        email.body, email.subject, email.preheader, layout, site_name, marketing
    )
    try:
        html = compiled.html.render(context)
        text = tidy(compiled.text.render(context))
    except TemplateError as e:
        # Find the line in the file: the same error, from the body rendered on its own.
        _render(_html_env, email.body, context, email.path, email.body_line)
        raise SeriesError(email.path, f"template error: {e}", email.body_line) from e
    return RenderedEmail(subject, preheader, html, text)


_layouts: dict[str, Environment] = {}


def _layout_env(folder: str) -> Environment:
    if folder not in _layouts:
        _layouts[folder] = Environment(
            loader=FileSystemLoader(folder), autoescape=True, auto_reload=True
        )
    return _layouts[folder]
