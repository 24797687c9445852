"""Committed work reaches the queue after the commit, and a queue outage is no error."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from formserver.core import db
from formserver.core.models import Event, WebhookDelivery
from tests.conftest import free_port

AUTH = {"Authorization": "Bearer test-token-1"}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # A Redis queue on a loopback port where nothing listens: every enqueue fails at once.
    return app_config | {
        "QUEUE_URL": f"redis://127.0.0.1:{free_port()}/0",
        "WEBHOOKS": [
            {"url": "http://127.0.0.1:9/hook", "secret": "s", "events": ["lead.converted"]}
        ],
        "WEBHOOK_ALLOW_PRIVATE": True,
    }


def test_a_conversion_is_201_when_the_queue_is_down_and_its_webhook_waits(app, client, make_lead):
    """A 500 here would make the CRM retry a conversion that was already recorded: a double."""
    make_lead("ada@example.com")
    body = {"email": "ada@example.com", "event": "converted", "value": 10}
    response = client.post("/api/events", json=body, headers=AUTH)
    assert response.status_code == 201 and response.get_json()["status"] == "ok"
    with db.new_session(app) as s:
        assert s.scalar(select(func.count()).where(Event.kind == "converted")) == 1
        [delivery] = s.scalars(select(WebhookDelivery)).all()
        # Still pending: the webhook sweep hands it to the queue once Redis is back.
        assert delivery.status == "pending" and delivery.event == "lead.converted"
