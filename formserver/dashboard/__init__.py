"""The marketer dashboard at /admin, cookie-free tracking, the events API and outgoing webhooks."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import IntegrityError

logger = logging.getLogger(__name__)


def _csrf_token() -> str:
    """Flask-WTF's token for a page's forms; WTForms loads with the first page that has one."""
    from flask_wtf.csrf import generate_csrf

    return generate_csrf()


def init_app(app: Flask) -> None:
    """Register the dashboard, its login gate, tracking, the API, webhooks and `flask admin`."""
    from formserver.dashboard import auth, funnel, guard
    from formserver.dashboard.views import bp

    app.register_blueprint(bp)
    # One gate for every /admin URL, the development outbox included.
    app.before_request(guard.check_request)
    app.after_request(guard.no_store)
    app.context_processor(guard.template_context)
    app.add_template_filter(funnel.percent, "pct")
    app.jinja_env.globals["csrf_token"] = _csrf_token
    if app.config.get("DEV"):
        try:
            auth.ensure_dev_user(app)
        except IntegrityError:  # the worker process created it at the same moment
            logger.info("development admin user already exists")
