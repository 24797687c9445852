"""Check a series before it ships: every problem as ``file:line: message``, warnings apart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from formserver.content.errors import SeriesError
from formserver.content.fields import FIELDS
from formserver.content.series import Email, Series, Step, load_series
from formserver.core import site_settings
from formserver.mail.html_links import find_links

ALLOWED = {
    "lead": {"email", *FIELDS},
    "offer": {"id", "title"},
    "series": {"title", "name"},
}
URLS = {"download_url", "unsubscribe_url", "preferences_url"}
MD_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)")
HTML_IMG = re.compile(r"<img\b(?![^>]*\balt=)[^>]*>", re.I)
MAX_SUBJECT = 78
_env = SandboxedEnvironment()


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'warning: ' if self.warning else ''}{self.message}"


def _names(source: str, path: Path, line: int, confirm: bool) -> list[Problem]:
    """Jinja syntax and merge fields: only names the lead/offer schema has."""
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as e:
        return [Problem(path, line + (e.lineno or 1) - 1, f"Jinja syntax error: {e.message}")]
    problems = []
    allowed_urls = URLS | ({"confirm_url"} if confirm else set())
    attributes = {id(n.node) for n in tree.find_all(nodes.Getattr)}
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in ALLOWED:
            if node.attr not in ALLOWED[node.node.name]:
                problems.append(
                    Problem(
                        path,
                        line + node.lineno - 1,
                        f"unknown merge field {node.node.name}.{node.attr}",
                    )
                )
    for name in tree.find_all(nodes.Name):
        if name.ctx != "load" or name.name in ALLOWED and id(name) in attributes:
            continue
        if name.name not in allowed_urls:
            problems.append(
                Problem(path, line + name.lineno - 1, f"unknown merge field {name.name}")
            )
    return problems


def _links(email: Email, output: Path | None, site_hosts: set[str]) -> list[Problem]:
    problems = []
    hrefs: dict[int, list[str]] = {}
    for link in find_links(email.body):
        hrefs.setdefault(link.line - 1, []).append(link.url)
    for offset, text in enumerate(email.body.split("\n")):
        line = email.body_line + offset
        found = [(m.group(1), m.group(2), m.group(3)) for m in MD_LINK.finditer(text)]
        found += [("", "link", url) for url in hrefs.get(offset, []) if url]
        for bang, label, url in found:
            if bang and not label.strip():
                problems.append(Problem(email.path, line, f"image without alt text: {url}"))
            if url.startswith("{{") or url.startswith("mailto:") or url.startswith("#"):
                continue
            parts = urlsplit(url)
            if not parts.scheme or not parts.netloc:
                problems.append(Problem(email.path, line, f"relative link {url!r}: use https://…"))
            elif parts.hostname in site_hosts and output is not None and output.is_dir():
                target = output / parts.path.lstrip("/")
                if not (target.is_file() or (target / "index.html").is_file()):
                    problems.append(Problem(email.path, line, f"link to a missing page: {url}"))
        if HTML_IMG.search(text):
            problems.append(Problem(email.path, line, "image without alt text"))
    return problems


def lint_email(
    email: Email, series: Series, output: Path | None, site_hosts: set[str]
) -> list[Problem]:
    confirm = not isinstance(email, Step)
    problems = _names(email.subject, email.path, 1, confirm)
    problems += _names(email.preheader, email.path, 1, confirm)
    problems += _names(email.body, email.path, email.body_line, confirm)
    problems += _links(email, output, site_hosts)
    marketing = isinstance(email, Step) and email.marketing
    if marketing and email.headers.get("layout", "").lower() == "none":
        if "unsubscribe_url" not in email.body:
            problems.append(
                Problem(
                    email.path,
                    email.body_line,
                    "marketing email with Layout: none needs {{ unsubscribe_url }}",
                )
            )
    if len(email.subject) > MAX_SUBJECT:
        problems.append(
            Problem(
                email.path,
                1,
                f"subject is {len(email.subject)} characters "
                f"(over {MAX_SUBJECT} is cut off in many inboxes)",
                warning=True,
            )
        )
    if confirm and "confirm_url" not in email.body:
        problems.append(Problem(email.path, email.body_line, "confirm.md needs {{ confirm_url }}"))
    return problems


def lint_series(
    emails_dir: Path, name: str, output: Path | None = None, site_hosts: set[str] | None = None
) -> list[Problem]:
    """Every problem in one series; a broken file stops at its first error."""
    try:
        series = load_series(emails_dir, name)
    except SeriesError as e:
        return [Problem(e.path, e.line or 1, e.reason)]
    problems = []
    for email in (*([series.confirm] if series.confirm else []), *series.steps):
        problems += lint_email(email, series, output, site_hosts or set())
    return problems


def site_hosts() -> set[str]:
    """Our site's host names: links to them are checked against the built output."""
    from flask import current_app

    urls = [current_app.config["SITE_URL"], site_settings.context()["SITEURL"]]
    publish = Path(current_app.config["SITE_SETTINGS"]).with_name("publishconf.py")
    if publish.is_file():
        urls.append(site_settings.site_context(str(publish))["SITEURL"])
    return {h for h in (urlsplit(u or "").hostname for u in urls) if h}
