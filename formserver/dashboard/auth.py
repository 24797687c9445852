"""Logging marketers in and out: strong hashed passwords, revocable sessions, throttled failures."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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
from sqlalchemy import func, select

from formserver.core import db
from formserver.core.models import AdminUser
from formserver.dashboard import sessions, throttle
from formserver.domain.admin_users import (  # noqa: F401 (the dashboard's and tests' names)
    authenticate,
    create_user,
    normalize_email,
    password_problem,
)

if TYPE_CHECKING:
    from formserver.dashboard.login_form import LoginForm

logger = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

SESSION_KEY = sessions.USER_KEY


def current_user() -> AdminUser | None:
    """The logged-in user of this request, loaded and checked once (version, timeouts)."""
    if "admin_user" not in g:
        g.admin_user = sessions.load_user(sessions.utcnow())
    return g.admin_user


def ensure_dev_user(app) -> None:
    """Create DEV_ADMIN_EMAIL with DEV_ADMIN_PASSWORD when missing (development only)."""
    with db.new_session(app) as s:
        email = normalize_email(app.config["DEV_ADMIN_EMAIL"])
        if s.scalar(select(func.count()).where(AdminUser.email == email)):
            return
        # Its password is printed by `make run` and in the README: no strength to check.
        create_user(s, email, app.config["DEV_ADMIN_PASSWORD"], check_strength=False)
        s.commit()
        logger.info("created the development admin user %s", email)


def safe_next(target: str | None) -> str:
    """Only ever return to a page of the dashboard itself."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        if "\\" not in target and "\n" not in target:
            return target
    return url_for("admin.offers.index")


def _owner_ip(email: str) -> str | None:
    """The address this account last logged in from (None for an unknown email)."""
    query = select(AdminUser.last_login_ip).where(AdminUser.email == normalize_email(email))
    return db.session().scalar(query)


def _throttled(scope: str, seconds: int, form: LoginForm):
    logger.warning("admin login throttled (%s) for %s", scope, request.remote_addr)
    where = "for this account" if scope == "account" else "from your address"
    message = f"Too many failed attempts {where}. Wait {seconds} seconds and try again."
    form.form_errors.append(message)
    response = current_app.make_response((render_template("admin/login.html", form=form), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET" and current_user() is not None:
        return redirect(safe_next(request.args.get("next")), 303)
    from formserver.dashboard.login_form import LoginForm  # WTForms loads with the login page

    form = LoginForm()
    status = 200
    if request.method == "POST":
        account = normalize_email(request.form.get("email", ""))[:254]
        owner_ip = _owner_ip(account)
        wait = throttle.wait_for(account, owner_ip)
        if wait is not None:
            return _throttled(*wait, form)
        if form.validate_on_submit():
            user = authenticate(db.session(), form.email.data, form.password.data)
            if user is not None:
                now = sessions.utcnow()
                sessions.start(user, now)
                user.last_login_at = now
                user.last_login_ip = throttle.address()
                db.session().commit()
                logger.info("admin %s logged in", user.id)
                return redirect(safe_next(request.args.get("next")), 303)
            throttle.count_failure(account, owner_ip)
            form.form_errors.append("That email and password do not match.")
            status = 401
        else:
            status = 400
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
def logout():
    user = current_user()
    if user is not None:
        sessions.end_everywhere(user)  # a copy of this cookie must not outlive the logout
        db.session().commit()
        logger.info("admin %s logged out", user.id)
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("admin.auth.login"), 303)
