"""The admin session: whose it is, which version of their sessions, and how long it may last.

Flask's session is a signed cookie the server does not keep, so a copy of it would stay valid
for ever. Each cookie therefore carries its user's ``session_version``: raising that number
(logout, a new password) ends every copy at once. The login and last-seen times in the cookie
give the idle and absolute timeouts (ADMIN_SESSION_IDLE_MINUTES, ADMIN_SESSION_MAX_HOURS).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app, flash, session

from formserver.core import db
from formserver.core.models import AdminUser
from formserver.domain import admin_users

logger = logging.getLogger(__name__)

USER_KEY = "admin_user_id"
VERSION_KEY = "admin_session_version"
LOGIN_AT_KEY = "admin_login_at"
SEEN_AT_KEY = "admin_seen_at"


def utcnow() -> datetime:
    """The current time; one place, so the timeouts read the same clock everywhere."""
    return datetime.now(UTC)


def start(user: AdminUser, now: datetime) -> None:
    """Begin a fresh session for ``user`` (a cleared cookie, so no fixation)."""
    session.clear()
    session[USER_KEY] = user.id
    session[VERSION_KEY] = user.session_version
    session[LOGIN_AT_KEY] = int(now.timestamp())
    session[SEEN_AT_KEY] = int(now.timestamp())


def end_everywhere(user: AdminUser) -> None:
    """Invalidate every cookie issued to ``user`` so far (the caller commits)."""
    admin_users.end_everywhere(user)


def _expired(now: datetime) -> str | None:
    """Why the session's times no longer allow it, or None while they do."""
    login_at, seen_at = session.get(LOGIN_AT_KEY), session.get(SEEN_AT_KEY)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "ended"
    config = current_app.config
    if now - datetime.fromtimestamp(login_at, UTC) > timedelta(
        hours=config["ADMIN_SESSION_MAX_HOURS"]
    ):
        return "expired"
    if now - datetime.fromtimestamp(seen_at, UTC) > timedelta(
        minutes=config["ADMIN_SESSION_IDLE_MINUTES"]
    ):
        return "idle"
    return None


MESSAGES = {
    "ended": "Your session has ended. Log in again.",
    "idle": "You were logged out after {idle} minutes without activity. Log in again.",
    "expired": "Your login is more than {hours} hours old. Log in again.",
}


def load_user(now: datetime) -> AdminUser | None:
    """The user this request's session belongs to, if it is still valid; else end it."""
    user_id = session.get(USER_KEY)
    if not isinstance(user_id, int):
        return None
    user = db.session().get(AdminUser, user_id)
    reason = "ended" if user is None else _expired(now)
    if user is not None and reason is None and session.get(VERSION_KEY) != user.session_version:
        reason = "ended"  # logged out, or the password changed, since this cookie was issued
    if reason is not None:
        logger.info("admin session of user %s refused: %s", user_id, reason)
        session.clear()
        config = current_app.config
        hours, idle = config["ADMIN_SESSION_MAX_HOURS"], config["ADMIN_SESSION_IDLE_MINUTES"]
        flash(MESSAGES[reason].format(hours=hours, idle=idle))
        return None
    session[SEEN_AT_KEY] = int(now.timestamp())
    return user
