"""Test sends: the real rendered emails of a series to one address, marked [TEST], no rows."""

from __future__ import annotations

import logging
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from formserver.content.errors import FormServerError
from formserver.content.series import Series
from formserver.mail import smtp as mail
from formserver.mail.render import RenderedEmail
from formserver.mail.tooling.preview import preview_series, sample_lead

logger = logging.getLogger(__name__)


def send_tests(
    series: Series, to: str, step: int | None = None, lead_file: Path | None = None
) -> list[str]:
    """Send each step (or one) to ``to``; return the subjects sent."""
    try:
        address = validate_email(to, check_deliverability=False).normalized
    except EmailNotValidError as e:
        raise FormServerError(f"not a valid address: {e}") from e
    previews = preview_series(series, sample_lead(lead_file), step)
    if not previews:
        raise FormServerError(f"{series.name} has no step {step}")
    sent = []
    with mail.connect() as connection:
        for p in previews:
            rendered = RenderedEmail(
                f"[TEST] {p.rendered.subject}",
                p.rendered.preheader,
                p.rendered.html,
                p.rendered.text,
            )
            envelope = mail.Envelope(
                to=address,
                from_name=series.from_name,
                from_email=series.from_email,
                reply_to=series.reply_to,
                list_id="",
                message_key=f"test-{series.name}-{p.label}",
                unsubscribe_url=current_app.config["PUBLIC_URL"],
                marketing=False,
            )
            try:  # the same build and send as every drip email, international addresses too
                mail.send(connection, mail.build(rendered, envelope))
            except (FormServerError, OSError):
                raise
            except Exception as e:  # a clear line for the marketer, never a traceback or a 500
                logger.exception("test send of %s to %s failed", p.label, address)
                raise FormServerError(f"{p.label} could not be sent: {e}") from e
            sent.append(rendered.subject)
    return sent
