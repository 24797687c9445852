"""The minimum-fill-time trap: a signed render time that a bot submits too soon, or forges."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

logger = logging.getLogger(__name__)

STAMP_FIELD = "stamp"
SALT = "lodestone-form-stamp"  # its own salt: no other token of ours is a valid stamp


class _Signer(TimestampSigner):
    """A TimestampSigner whose clock is the ``now`` it is given, so tests pass time in."""

    def __init__(self, keys: list[str], now: datetime) -> None:
        super().__init__(keys, salt=SALT)
        self._now = int(now.timestamp())

    def get_timestamp(self) -> int:
        return self._now


def _signer(now: datetime) -> _Signer:
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return _Signer([*fallbacks, current_app.config["SECRET_KEY"]], now)  # oldest first


def make_stamp(offer_id: str, now: datetime) -> str:
    """A stamp saying "the form of ``offer_id`` was shown at ``now``", signed."""
    return _signer(now).sign(offer_id).decode()


def bot_reason(offer_id: str, stamp: str, now: datetime) -> str | None:
    """Why this submission's stamp marks it as a bot's ("too fast", "tampered"), or None.

    No stamp (the no-JavaScript path) and a stamp older than FORM_STAMP_MAX_AGE (a tab left
    open overnight) prove nothing either way, so they pass.
    """
    if not stamp:
        return None
    signer = _signer(now)
    try:
        value, signed_at = signer.unsign(
            stamp, max_age=current_app.config["FORM_STAMP_MAX_AGE"], return_timestamp=True
        )
    except SignatureExpired:  # a subclass of BadSignature: caught first
        return None
    except BadSignature:
        return "tampered"
    if value.decode("utf-8", "replace") != offer_id:
        return "tampered"  # a stamp fetched for another offer
    if (now - signed_at).total_seconds() < current_app.config["FORM_MIN_FILL_SECONDS"]:
        return "too fast"
    return None
