"""The dashboard's pages: one blueprint at /admin holding one child blueprint per area."""

from __future__ import annotations

from flask import Blueprint

from formserver.dashboard import auth
from formserver.dashboard.views import lead, leads, offers, sends, webhooks

bp = Blueprint("admin", __name__, url_prefix="/admin")
for child in (auth.bp, offers.bp, leads.bp, lead.bp, webhooks.bp, sends.bp):
    bp.register_blueprint(child)
