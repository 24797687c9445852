"""The marketer dashboard at /admin, cookie-free tracking, the events API and outgoing webhooks."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy.exc import IntegrityError

logger = logging.getLogger(__name__)

# Settings of this package (docs/dashboard.md explains each); instance config may override.
DEFAULTS: dict[str, Any] = {
    "SCORING": {"submitted": 10, "confirmed": 5, "downloaded": 5, "clicked": 3, "converted": 50},
    "SCORE_HALF_LIFE_DAYS": None,
    "TAG_FIELDS": ["role", "company_size"],
    "TRACK_OPENS": False,
    "API_TOKENS": [],
    "WEBHOOKS": [],
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_RETRY_BASE": 30,
    "WEBHOOK_TIMEOUT": 10,
    "WEBHOOK_SWEEP_MINUTES": 1,
    "ADMIN_LOGIN_RATE_LIMIT": "5 per minute",
    "ADMIN_PAGE_SIZE": 50,
}


def _csrf_token() -> str:
    """Flask-WTF's token for a page's forms; WTForms loads with the first page that has one."""
    from flask_wtf.csrf import generate_csrf

    return generate_csrf()


def init_app(app: Flask) -> None:
    """Register the dashboard, its login gate, tracking, the API, webhooks and `flask admin`."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)

    from formserver.admin import api, auth, cli, funnel, guard, models, tracking, webhook_tasks
    from formserver.admin.views import bp

    assert models.AdminUser  # imported for its side effect: the admin tables are mapped

    app.register_blueprint(bp)
    app.register_blueprint(tracking.bp)
    app.register_blueprint(api.bp)
    # One gate for every /admin URL, the development outbox included.
    app.before_request(guard.check_request)
    app.after_request(guard.no_store)
    app.context_processor(guard.template_context)
    app.add_template_filter(funnel.percent, "pct")
    app.jinja_env.globals["csrf_token"] = _csrf_token
    app.cli.add_command(cli.admin_cli)
    webhook_tasks.init_app(app)
    if app.config.get("DEV"):
        try:
            auth.ensure_dev_user(app)
        except IntegrityError:  # the worker process created it at the same moment
            logger.info("development admin user already exists")
