"""The development Outbox: every message the local sink (``flask dev``) kept, as a page."""

from __future__ import annotations

import email.policy
import mailbox
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, render_template
from markupsafe import Markup

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")


@dataclass(frozen=True)
class OutboxMessage:
    """One message in the outbox, parsed for display."""

    key: str
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", "(no subject)"))

    @property
    def to(self) -> str:
        return str(self.message.get("To", ""))

    @property
    def date(self) -> str:
        raw = self.message.get("Date")
        return parsedate_to_datetime(raw).strftime("%Y-%m-%d %H:%M:%S") if raw else ""

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""


def read_outbox(path: Path) -> list[OutboxMessage]:
    """Every message in the Maildir, newest first."""
    box = mailbox.Maildir(path, create=True)
    items = []
    for key in box.keys():
        msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        items.append(OutboxMessage(key, msg))
    return sorted(items, key=lambda m: m.message.get("Date", ""), reverse=True)


@bp.get("/")
def index() -> str:
    messages = read_outbox(Path(current_app.config["OUTBOX_PATH"]))
    return render_template("outbox/index.html", messages=messages)


@bp.get("/<key>")
def show(key: str) -> str:
    messages = {m.key: m for m in read_outbox(Path(current_app.config["OUTBOX_PATH"]))}
    if key not in messages:
        abort(404)
    msg = messages[key]
    headers = [(k, str(v)) for k, v in msg.message.items()]
    # The HTML part goes in a sandboxed frame: no scripts, no same-origin access.
    srcdoc = Markup.escape(msg.part("html"))
    return render_template(
        "outbox/show.html", msg=msg, headers=headers, srcdoc=srcdoc, text=msg.part("plain")
    )


def init_app(app: Flask) -> None:
    """Show the outbox only where a sink is configured (development)."""
    if app.config.get("OUTBOX_PATH"):
        app.register_blueprint(bp)
