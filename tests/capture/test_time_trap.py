"""The time-trap through the real endpoint: too fast or forged is a fake success, stored never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup

from formserver import create_app
from formserver.web.timetrap import bot_reason, make_stamp
from tests.capture.conftest import ORIGIN, post_form
from tests.capture.test_bad_input import stored


def stamp_from(app, offer: str, seconds_ago: float) -> str:
    """A stamp as the server would have signed it ``seconds_ago``."""
    with app.test_request_context():
        return make_stamp(offer, datetime.now(UTC) - timedelta(seconds=seconds_ago))


def test_the_stamp_endpoint_answers_a_fresh_stamp_that_is_never_cached(client) -> None:
    response = client.get("/forms/guide/stamp", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN  # our script may read it
    assert response.get_json()["stamp"].startswith("guide.")
    assert client.get("/forms/nope/stamp").status_code == 404


@pytest.mark.parametrize("as_json", [False, True], ids=["page", "script"])
def test_a_submission_faster_than_the_minimum_is_faked_and_stored_never(
    app,
    client,
    as_json: bool,
) -> None:
    stamp = client.get("/forms/guide/stamp").get_json()["stamp"]
    response = post_form(client, json=as_json, stamp=stamp)  # at once: no person is that fast
    if as_json:
        assert response.status_code == 201
        assert response.get_json()["status"] == "confirm"
        assert "download_url" not in response.get_json()
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/forms/guide/check-your-inbox")
    assert stored(app) == (0, 0)


def test_a_submission_after_the_minimum_is_stored(app, client) -> None:
    response = post_form(client, stamp=stamp_from(app, "guide", 10))
    assert response.status_code == 303
    assert "/thanks/" in response.headers["Location"]
    assert stored(app) == (1, 1)


def test_the_minimum_is_a_setting(app_config) -> None:
    app = create_app(app_config | {"FORM_MIN_FILL_SECONDS": 30})
    client = app.test_client()
    assert "/thanks/" not in post_form(client, stamp=stamp_from(app, "guide", 10)).location
    assert "/thanks/" in post_form(client, stamp=stamp_from(app, "guide", 31)).location
    assert stored(app) == (1, 1)


@pytest.mark.parametrize(
    "forge",
    [
        lambda s: s[:-2] + ("AA" if not s.endswith("AA") else "BB"),  # signature changed
        lambda s: ".".join([s.split(".")[0], "AAAAAA", s.split(".")[2]]),  # time moved back
        lambda s: "not a stamp",
        lambda s: "x" * 300,
    ],
    ids=["signature", "timestamp", "garbage", "overlong"],
)
def test_a_tampered_stamp_is_faked(app, client, forge) -> None:
    response = post_form(client, stamp=forge(stamp_from(app, "guide", 10)))
    assert response.status_code == 303
    assert "/thanks/" not in response.headers["Location"]
    assert stored(app) == (0, 0)


def test_a_stamp_signed_for_another_offer_is_faked(app, client) -> None:
    response = post_form(client, stamp=stamp_from(app, "plain", 10))
    assert "/thanks/" not in response.headers["Location"]
    assert stored(app) == (0, 0)


def test_no_stamp_is_the_no_javascript_path_and_is_stored(app, client) -> None:
    assert "/thanks/" in post_form(client).headers["Location"]
    assert "/thanks/" in post_form(client, email="b@example.com", stamp="").headers["Location"]
    assert stored(app) == (2, 2)


def test_a_stamp_older_than_a_day_counts_as_none(app, client) -> None:
    response = post_form(client, stamp=stamp_from(app, "guide", 2 * 24 * 3600))
    assert "/thanks/" in response.headers["Location"]
    assert stored(app) == (1, 1)


@pytest.mark.parametrize("seconds_ago", [10, None], ids=["stamped", "no-stamp"])
def test_the_error_page_keeps_the_stamp_so_a_quick_fix_is_stored(
    app,
    client,
    seconds_ago: float | None,
) -> None:
    sent = stamp_from(app, "guide", seconds_ago) if seconds_ago else ""
    page = post_form(client, consent=None, stamp=sent)  # the themed form page: tick the box
    assert page.status_code == 422
    field = BeautifulSoup(page.text, "html.parser").find("input", attrs={"name": "stamp"})
    assert field["type"] == "hidden" and field["value"] == sent
    fixed = post_form(client, stamp=field["value"])  # ticked and sent back at once
    assert "/thanks/" in fixed.headers["Location"]
    assert stored(app) == (1, 1)


def test_the_stamp_says_when_it_was_signed(app) -> None:
    with app.test_request_context():
        now = datetime.now(UTC)
        stamp = make_stamp("guide", now)
        assert bot_reason("guide", stamp, now + timedelta(seconds=2)) == "too fast"
        assert bot_reason("guide", stamp, now + timedelta(seconds=4)) is None
        assert bot_reason("guide", stamp, now + timedelta(days=2)) is None  # expired: no proof
        assert bot_reason("plain", stamp, now + timedelta(seconds=4)) == "tampered"


@pytest.mark.parametrize("allow,status", [(True, 303), (False, 403)])
def test_null_origin_passes_unless_switched_off(app_config, allow: bool, status: int) -> None:
    app = create_app(app_config | {"ALLOW_NULL_ORIGIN": allow})
    response = post_form(app.test_client(), headers={"Origin": "null"})
    assert response.status_code == status
    assert stored(app) == ((1, 1) if allow else (0, 0))
