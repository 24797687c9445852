"""Signed, scoped, expiring tokens for the links we hand out (itsdangerous, one salt a purpose)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from formserver.content.errors import FormServerError

# One salt per purpose: a token made for one purpose never opens another.
PURPOSES = ("download", "confirm", "unsubscribe", "preferences", "click")


class TokenInvalid(FormServerError):
    """The token was tampered with, or made for another purpose."""


class TokenExpired(FormServerError):
    """The token is genuine but older than its purpose allows; ``payload`` is still readable."""

    def __init__(self, payload: Any) -> None:
        super().__init__("link expired")
        self.payload = payload


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    secrets = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    keys = [*secrets, current_app.config["SECRET_KEY"]]  # itsdangerous: oldest first
    return URLSafeTimedSerializer(keys, salt=f"lodestone-{purpose}")


def make_token(purpose: str, payload: Any) -> str:
    """Sign ``payload`` (ids only, never personal data) for ``purpose``."""
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int | None = None) -> Any:
    """Return the payload, or raise TokenExpired / TokenInvalid."""
    serializer = _serializer(purpose)
    try:
        return serializer.loads(token, max_age=max_age)
    except SignatureExpired as e:  # subclass of BadSignature: catch it first
        payload = serializer.load_payload(e.payload) if e.payload is not None else None
        raise TokenExpired(payload) from e
    except BadSignature as e:
        raise TokenInvalid("invalid link") from e
