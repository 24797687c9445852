"""Every public endpoint is throttled: the beacon, both pixels, the stamp and bad API tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Event, Lead, Send
from formserver.core.tokens import make_token
from tests.capture.conftest import ORIGIN

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"}


def limited(app_config: dict, **limits: str):
    """An app with rate limiting on and the given limits."""
    return create_app(app_config | {"RATELIMIT_ENABLED": True, **limits})


def events(app, kind: str) -> int:
    with db.new_session(app) as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.kind == kind))


def test_the_view_beacon_answers_429_past_its_limit(app_config: dict) -> None:
    app = limited(app_config, BEACON_RATE_LIMIT="3 per minute")
    client = app.test_client()
    headers = BROWSER | {"Origin": ORIGIN}
    codes = [client.post("/t/view/guide", data={}, headers=headers).status_code for _ in range(5)]
    assert codes == [204, 204, 204, 429, 429]
    assert events(app, "pageview") == 3


def test_the_view_pixel_stays_an_image_past_its_limit_and_records_nothing(
    app_config: dict,
) -> None:
    app = limited(app_config, PIXEL_RATE_LIMIT="2 per minute")
    client = app.test_client()
    answers = [client.get("/t/view/guide.gif", headers=BROWSER) for _ in range(4)]
    assert [(r.status_code, r.mimetype, r.data[:6]) for r in answers] == [
        (200, "image/gif", b"GIF89a")
    ] * 4  # a mail client or page never shows a broken image
    assert events(app, "pageview") == 2


def test_the_open_pixel_stays_an_image_past_its_limit_and_records_nothing(
    app_config: dict,
) -> None:
    app = limited(app_config, PIXEL_RATE_LIMIT="2 per minute", TRACK_OPENS=True)
    with db.new_session(app) as s:
        lead = Lead(email="ada@example.com", attributes={}, status="active")
        lead.created_at = datetime.now(UTC)
        s.add(lead)
        s.flush()
        sends = [
            Send(lead_id=lead.id, offer_id="guide", series="guide-series", kind="step", step=i)
            for i in range(4)
        ]
        s.add_all(sends)
        s.commit()
        ids = [send.id for send in sends]
    with app.test_request_context():
        tokens = [make_token("click", {"s": i, "o": 1}) for i in ids]
    client = app.test_client()
    answers = [client.get(f"/t/open/{token}.gif", headers=BROWSER) for token in tokens]
    assert [(r.status_code, r.mimetype) for r in answers] == [(200, "image/gif")] * 4
    assert events(app, "opened") == 2  # four emails opened, two past the limit not counted


def test_the_stamp_endpoint_answers_429_past_its_limit(app_config: dict) -> None:
    client = limited(app_config, STAMP_RATE_LIMIT="2 per minute").test_client()
    codes = [client.get("/forms/guide/stamp").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_bad_api_tokens_get_429_past_the_limit_and_good_ones_do_not_count(
    app_config: dict,
) -> None:
    app = limited(app_config, API_AUTH_FAILURE_RATE_LIMIT="3 per minute", API_TOKENS=["right"])
    client = app.test_client()
    body = {"email": "nobody@example.com", "tag": "x"}

    def call(token: str):
        return client.post("/api/events", json=body, headers={"Authorization": f"Bearer {token}"})

    assert [call("right").status_code for _ in range(6)] == [404] * 6  # authorized: not counted
    assert [call("wrong").status_code for _ in range(3)] == [401] * 3
    refused = call("wrong")
    assert refused.status_code == 429 and "error" in refused.get_json()
