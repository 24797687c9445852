"""Redis down while visitors submit: every lead stored, every email sent after it returns.

Production mode keeps both the queue and the rate-limit counters in Redis (docs/deploy.md), so
both lose it at once: the form must still answer, and still refuse a flood.
"""

from __future__ import annotations

import socket
import threading

from sqlalchemy import func, select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Lead, Submission
from tests.capture.conftest import ORIGIN


def test_submissions_survive_a_queue_outage_and_the_sweep_sends_them(
    app_config, own_redis, smtp, site
) -> None:
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


def test_a_redis_that_hangs_delays_a_visitor_but_loses_nothing(app_config, smtp, site) -> None:
    """A Redis that accepts connections and never answers (a frozen host): the post still lands."""
    sink, port = smtp
    with socket.socket() as black_hole:  # listens, never accepts: connects, then silence
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(16)
        url = f"redis://127.0.0.1:{black_hole.getsockname()[1]}"
        app = create_app(
            app_config
            | {
                "QUEUE_URL": f"{url}/0",
                "RATELIMIT_ENABLED": True,
                "RATELIMIT_STORAGE_URI": f"{url}/1",
                "MAIL_PORT": port,
                "CONTENT_PATH": str(site / "content"),
                "ASSETS_PATH": str(site / "assets"),
            }
        )
        answers: list[int] = []

        def visit() -> None:
            answers.append(
                app.test_client()
                .post(
                    "/forms/guide",
                    headers={"Origin": ORIGIN},
                    data={"email": "frozen@example.com", "first_name": "F", "consent": "yes"},
                )
                .status_code
            )

        visitor = threading.Thread(target=visit, daemon=True)
        visitor.start()
        visitor.join(timeout=60)  # Redis reads time out: 1 s for limits, 3 s for the queue
        assert answers == [303]
    with app.app_context():
        lead = db.session().scalar(select(Lead).where(Lead.email == "frozen@example.com"))
        assert lead is not None
    assert sink.messages == []  # its email waits for the sweep, as in an outage
