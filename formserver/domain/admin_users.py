"""Dashboard users: strong passwords, constant-time checks, and ending every session of one."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from formserver.core.models import AdminUser

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 is "safely unguessable", about 10^10 guesses
# Words anyone attacking this dashboard would try first.
GUESSABLE_WORDS = ["lodestone", "admin", "dashboard", "marketing", "password"]


@cache
def _dummy_hash() -> str:
    """Checked against for an unknown email, so a miss costs as long as a hit.

    Made on first use, not at import: hashing costs a tenth of a second of every start-up.
    """
    return generate_password_hash("lodestone-timing-equaliser")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str, email: str) -> str | None:
    """Why ``password`` is too weak for a dashboard login, or None when it is strong enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password needs at least {MIN_PASSWORD_LENGTH} characters"
    local, _, domain = email.partition("@")
    # zxcvbn's cost grows with length; the first 100 characters decide any realistic guess.
    from zxcvbn import zxcvbn  # only where a password is set

    result = zxcvbn(password[:100], user_inputs=[email, local, domain, *GUESSABLE_WORDS])
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = result["feedback"]
    hints = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
    reason = f"the password is too easy to guess (strength {result['score']} of 4, "
    reason += f"{MIN_PASSWORD_SCORE} needed)"
    return f"{reason}: {hints}" if hints else f"{reason}: use four or more uncommon words"


def create_user(s: Session, email: str, password: str, *, check_strength: bool = True) -> AdminUser:
    """Add a dashboard user, or reset the password of an existing one (ending its sessions).

    ``check_strength=False`` is for the development login only, whose password is public.
    """
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise ValueError(f"{email!r} is not an email address")
    problem = password_problem(password, email) if check_strength else None
    if problem:
        raise ValueError(problem)
    user = s.scalar(select(AdminUser).where(AdminUser.email == email))
    if user is None:
        user = AdminUser(email=email, session_version=1)
        s.add(user)
    else:
        end_everywhere(user)  # a new password: whoever had the old one is out
    user.password_hash = generate_password_hash(password)
    return user


def authenticate(s: Session, email: str, password: str) -> AdminUser | None:
    """The user whose email and password match, else None (in constant-ish time)."""
    user = s.scalar(select(AdminUser).where(AdminUser.email == normalize_email(email)))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def end_everywhere(user: AdminUser) -> None:
    """Invalidate every cookie issued to ``user`` so far (the caller commits)."""
    user.session_version = (user.session_version or 1) + 1
