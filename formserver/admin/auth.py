"""Logging marketers in and out: hashed passwords, a session cookie, throttled failures."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from limits import parse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from formserver import db
from formserver.admin.models import AdminUser

logger = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

SESSION_KEY = "admin_user_id"
# Checked against when the email is unknown, so a miss costs as long as a hit.
_DUMMY_HASH = generate_password_hash("lodestone-timing-equaliser")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(s: Session, email: str, password: str) -> AdminUser:
    """Add a dashboard user, or reset the password of an existing one."""
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise ValueError(f"{email!r} is not an email address")
    user = s.scalar(select(AdminUser).where(AdminUser.email == email))
    if user is None:
        user = AdminUser(email=email)
        s.add(user)
    user.password_hash = generate_password_hash(password)
    return user


def authenticate(s: Session, email: str, password: str) -> AdminUser | None:
    """The user whose email and password match, else None (in constant-ish time)."""
    user = s.scalar(select(AdminUser).where(AdminUser.email == normalize_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def current_user() -> AdminUser | None:
    """The logged-in user of this request, loaded once."""
    if "admin_user" not in g:
        user_id = session.get(SESSION_KEY)
        g.admin_user = db.session().get(AdminUser, user_id) if isinstance(user_id, int) else None
    return g.admin_user


def ensure_dev_user(app) -> None:  # noqa: ANN001
    """Create DEV_ADMIN_EMAIL with DEV_ADMIN_PASSWORD when missing (development only)."""
    with db.new_session(app) as s:
        email = normalize_email(app.config["DEV_ADMIN_EMAIL"])
        if s.scalar(select(func.count()).where(AdminUser.email == email)):
            return
        create_user(s, email, app.config["DEV_ADMIN_PASSWORD"])
        s.commit()
        logger.info("created the development admin user %s", email)


def _limiters() -> list:
    return [lim for lim in current_app.extensions.get("limiter", ()) if lim.enabled]


def _throttle_keys(email: str) -> list[tuple[str, str]]:
    return [("ip", request.remote_addr or "-"), ("email", normalize_email(email)[:254])]


def login_throttled(email: str) -> bool:
    """True when this IP or this email has failed too often lately."""
    item = parse(current_app.config["ADMIN_LOGIN_RATE_LIMIT"])
    return any(
        not lim.limiter.test(item, "admin-login", *key)
        for lim in _limiters()
        for key in _throttle_keys(email)
    )


def _count_failure(email: str) -> None:
    item = parse(current_app.config["ADMIN_LOGIN_RATE_LIMIT"])
    for lim in _limiters():
        for key in _throttle_keys(email):
            lim.limiter.hit(item, "admin-login", *key)


def safe_next(target: str | None) -> str:
    """Only ever return to a page of the dashboard itself."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        if "\\" not in target and "\n" not in target:
            return target
    return url_for("admin.offers.index")


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    if request.method == "GET" and current_user() is not None:
        return redirect(safe_next(request.args.get("next")), 303)
    form = LoginForm()
    status = 200
    if request.method == "POST":
        email = request.form.get("email", "")
        if login_throttled(email):
            logger.warning("admin login throttled for %s", request.remote_addr)
            form.form_errors.append("Too many failed attempts. Wait a minute and try again.")
            return render_template("admin/login.html", form=form), 429
        if form.validate_on_submit():
            user = authenticate(db.session(), form.email.data, form.password.data)
            if user is not None:
                session.clear()  # a fresh session: no fixation
                session[SESSION_KEY] = user.id
                user.last_login_at = datetime.now(UTC)
                db.session().commit()
                logger.info("admin %s logged in", user.id)
                return redirect(safe_next(request.args.get("next")), 303)
            _count_failure(email)
            form.form_errors.append("That email and password do not match.")
            status = 401
        else:
            status = 400
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
def logout():  # noqa: ANN201
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("admin.auth.login"), 303)
