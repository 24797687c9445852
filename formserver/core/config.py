"""Settings: embedded defaults, then ``instance/config.py``, then ``FORMSERVER_*`` variables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def defaults(instance_path: Path) -> dict[str, Any]:
    """Every setting with its embedded default; see docs/settings.md for each one."""
    return {
        "SECRET_KEY": None,
        "SECRET_KEY_FALLBACKS": [],
        "PROXY_FIX_X_FOR": 0,
        "DATABASE_URL": f"sqlite:///{instance_path / 'lodestone.db'}",
        "AUTO_MIGRATE": True,
        "QUEUE_URL": f"sqlite:///{instance_path / 'queue.db'}",
        "CONTENT_PATH": str(PROJECT_ROOT / "content"),
        "ASSETS_PATH": str(PROJECT_ROOT / "assets"),
        "THEME_PATH": str(PROJECT_ROOT / "theme"),
        "SITE_OUTPUT_PATH": str(PROJECT_ROOT / "output"),
        "SITE_SETTINGS": str(PROJECT_ROOT / "pelicanconf.py"),
        "SITE_URL": "http://127.0.0.1:8000",
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "SERVE_SITE": False,
        "ALLOWED_ORIGINS": None,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "MAX_FIELD_LENGTH": 2000,
        "IP_MODE": "anonymize",
        "DOWNLOAD_MAX_AGE": 7 * 24 * 3600,
        "CONFIRM_MAX_AGE": 7 * 24 * 3600,
        "ASSET_DELIVERY": "stream",
        "ASSET_ACCEL_PREFIX": "/protected-assets/",
        "EMAIL_CHECK_DELIVERABILITY": False,
        "INTERNATIONAL_EMAIL": "send",  # or "refuse": no non-ASCII before the @ (docs/settings.md)
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Storage down (Redis restarting): count in this process's memory, never fail a visitor.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "FORM_RATE_LIMIT": "20 per minute",
        "STAMP_RATE_LIMIT": "60 per minute",
        "BEACON_RATE_LIMIT": "60 per minute",
        "PIXEL_RATE_LIMIT": "120 per minute",
        "API_AUTH_FAILURE_RATE_LIMIT": "10 per minute",
        "ALLOW_NULL_ORIGIN": True,
        "FORM_MIN_FILL_SECONDS": 3,
        "FORM_STAMP_MAX_AGE": 24 * 3600,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 8025,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_DEFAULT_SENDER": "Lodestone <hello@lodestone.example>",
        "MAIL_TIMEOUT": 10,
        "MESSAGE_ID_DOMAIN": None,
        "LIST_UNSUBSCRIBE_MAILTO": None,
        "DKIM_SELECTOR": None,
        "DKIM_DOMAIN": None,
        "DKIM_PRIVATE_KEY_PATH": None,
        "UNCONFIRMED_RETENTION_DAYS": 7,
        "SEND_BATCH_SIZE": 200,
        "SEND_MAX_ATTEMPTS": 8,
        "SEND_RETRY_BASE": 60,
        "SEND_QUARANTINE_AFTER": 3,
        # Webhooks may not reach loopback, private or link-local addresses (metadata) unless on.
        "WEBHOOK_ALLOW_PRIVATE": False,
        "DEV": False,
        "OUTBOX_PATH": None,
        "DEV_ADMIN_EMAIL": "admin@lodestone.example",
        "DEV_ADMIN_PASSWORD": "lodestone-dev",
        "ADMIN_SESSION_IDLE_MINUTES": 30,
        "ADMIN_SESSION_MAX_HOURS": 12,
        "ADMIN_LOGIN_MAX_DELAY": 300,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The dashboard, tracking, scoring, the API and webhooks (docs/dashboard.md).
        "SCORING": {
            "submitted": 10,
            "confirmed": 5,
            "downloaded": 5,
            "clicked": 3,
            "converted": 50,
        },
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


def _development(config: dict[str, Any], instance: Path) -> None:
    """``make run``: one origin for site and forms, a local mail sink, cookies over plain HTTP."""
    config["SERVE_SITE"] = True
    config["SESSION_COOKIE_SECURE"] = False
    config["OUTBOX_PATH"] = config["OUTBOX_PATH"] or str(instance / "outbox")


def configured_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The app with its settings and nothing else: defaults, instance/config.py, FORMSERVER_*.

    Commands that only read files (``drip lint``) run on this, without the extensions.
    """
    from flask import Flask

    app = Flask("formserver", instance_relative_config=True)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(defaults(instance))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("FORMSERVER")
    else:
        app.config.from_mapping(test_config)
    if app.config["DEV"]:
        _development(app.config, instance)
    return app
