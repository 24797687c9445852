"""One gate in front of every /admin URL: a logged-in user, and a CSRF token on every change."""

from __future__ import annotations

import logging

from flask import current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from formserver.core.requests import wants_json
from formserver.dashboard.auth import current_user

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reachable without a login (the login form still needs its CSRF token).
OPEN_ENDPOINTS = frozenset({"admin.auth.login", "static"})


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def refuse(status: int, message: str) -> Response:
    """An error answer in the form the client asked for (JSON or the admin error page)."""
    if wants_json():
        response = jsonify(error=message)
    else:
        response = current_app.make_response(
            render_template("admin/error.html", status=status, message=message)
        )
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _csrf_problem() -> str | None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    from flask_wtf.csrf import validate_csrf  # WTForms loads with the first admin POST
    from wtforms import ValidationError

    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError as e:
        return str(e.args[0]) if e.args else "The CSRF token is invalid."
    return None


def check_request() -> Response | None:
    """before_request: let the request through, or answer it with a login page or an error."""
    if not is_admin_path(request.path):
        return None
    if request.endpoint not in OPEN_ENDPOINTS and current_user() is None:
        if request.method in ("GET", "HEAD") and not wants_json():
            return redirect(url_for("admin.auth.login", next=request.full_path.rstrip("?")))
        return refuse(401, "Log in to the dashboard first.")
    if request.method not in SAFE_METHODS:
        problem = _csrf_problem()
        if problem:
            logger.info("admin CSRF check failed on %s: %s", request.path, problem)
            return refuse(400, f"{problem} Reload the page and try again.")
    return None


def template_context() -> dict[str, object]:
    """context_processor: the logged-in user and the outbox link, on dashboard pages only."""
    if not is_admin_path(request.path):
        return {}
    outbox = url_for("outbox.index") if "outbox" in current_app.blueprints else None
    return {"admin_user": current_user(), "outbox_url": outbox}


def no_store(response: Response) -> Response:
    """after_request: dashboard pages hold personal data; never let a cache keep them."""
    if is_admin_path(request.path):
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
