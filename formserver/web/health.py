"""``GET /healthz``: 200 while the database answers, 503 when it does not."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from formserver.core import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    if db.ping():
        return jsonify(status="ok")
    return jsonify(status="unavailable", error="database unreachable"), 503


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
