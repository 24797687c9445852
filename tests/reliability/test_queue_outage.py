"""Redis down while visitors submit: every lead stored, every email sent after it returns.

Production mode keeps both the queue and the rate-limit counters in Redis (docs/deploy.md), so
both lose it at once: the form must still answer, and still refuse a flood.
"""

from __future__ import annotations

from sqlalchemy import func, select

from formserver import create_app, db
from formserver.models import Lead, Submission
from tests.capture.conftest import ORIGIN


def test_submissions_survive_a_queue_outage_and_the_sweep_sends_them(
    app_config, own_redis, smtp, site
) -> None:  # noqa: ANN001
    sink, port = smtp
    app = create_app(
        app_config
        | {
            "QUEUE_URL": own_redis.url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": own_redis.url.removesuffix("/0") + "/1",
            "FORM_RATE_LIMIT": "20 per minute",
            "MAIL_PORT": port,
            "CONTENT_PATH": str(site / "content"),
            "ASSETS_PATH": str(site / "assets"),
        }
    )
    client = app.test_client()
    own_redis.stop()
    for i in range(20):
        response = client.post(
            "/forms/guide",
            headers={"Origin": ORIGIN},
            data={"email": f"v{i}@example.com", "first_name": "V", "consent": "yes"},
        )
        assert response.status_code == 303  # the visitor never sees the outage
    flood = client.post(
        "/forms/guide",
        headers={"Origin": ORIGIN},
        data={"email": "v20@example.com", "first_name": "V", "consent": "yes"},
    )
    assert flood.status_code == 429  # limits are counted in memory meanwhile
    with app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(Lead)) == 20
        assert s.scalar(select(func.count()).select_from(Submission)) == 20
    assert sink.messages == []  # nothing could be queued
    own_redis.start()
    app.extensions["huey_tasks"]["dispatch"].call_local()  # the worker's periodic sweep
    assert sorted(rcpt[0] for _, rcpt in sink.envelopes) == sorted(
        f"v{i}@example.com" for i in range(20)
    )
