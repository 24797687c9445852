"""Lodestone's form server: captures leads from the static site and sends their drip emails."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported by the factory: the content layer (the site build) needs none
    from flask import Flask

from formserver.core.config import PROJECT_ROOT, configured_app, defaults
from formserver.core.urls import origin

__all__ = ["PROJECT_ROOT", "configured_app", "create_app", "defaults"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: its settings (``configured_app``), then every extension and blueprint."""
    app = configured_app(test_config)
    instance = Path(app.instance_path)
    from formserver.core import secrets_check  # development key, or production refuses a weak one

    secrets_check.configure(app, instance)
    if app.config["ALLOWED_ORIGINS"] is None:
        app.config["ALLOWED_ORIGINS"] = [origin(app.config["SITE_URL"])]

    from formserver import tasks
    from formserver.cli import commands as cli
    from formserver.cli import devserver
    from formserver.cli import drip as drip_cli
    from formserver.core import db, guards
    from formserver.dashboard import outbox
    from formserver.mail import smtp as mail
    from formserver.web import (
        capture,
        delivery,
        errorpages,
        health,
        security_headers,
        site,
        subscriptions,
    )

    if app.config["PROXY_FIX_X_FOR"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_X_FOR"])
        # Flask's documented way to add WSGI middleware; mypy sees a method being replaced.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    security_headers.init_app(app)  # first: its hook runs after every other one
    db.init_app(app)
    guards.init_app(app)
    errorpages.init_app(app)
    health.init_app(app)
    capture.init_app(app)
    delivery.init_app(app)
    tasks.init_app(app)
    mail.init_app(app)
    subscriptions.init_app(app)
    cli.init_app(app)
    drip_cli.init_app(app)
    devserver.init_app(app)
    outbox.init_app(app)
    from formserver import api, dashboard, webhook_tasks
    from formserver.cli import admin as admin_cli
    from formserver.web import tracking

    app.register_blueprint(tracking.bp)
    app.register_blueprint(api.bp)
    dashboard.init_app(app)
    app.cli.add_command(admin_cli.admin_cli)
    webhook_tasks.init_app(app)
    from formserver.dashboard import series_pages

    series_pages.init_app(app)
    # Last: the development site route catches every other path.
    site.init_app(app)
    return app
