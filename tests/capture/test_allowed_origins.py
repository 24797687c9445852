"""One ALLOWED_ORIGINS rule for the form, the view beacon and CORS, however the value is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Event, Lead
from tests.capture.conftest import ORIGIN

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
# The same site written as a marketer might: JSON lists with and without a trailing slash, a
# default port and capitals, and the plain string an environment variable gives when not JSON.
SPELLINGS = [
    ["https://www.lodestone.test"],
    ["https://www.lodestone.test/"],
    ["HTTPS://WWW.Lodestone.test:443/landing/"],
    "https://www.lodestone.test/",
    "https://other.test, https://www.lodestone.test/",
]


def _answers(app_config: dict, allowed: object, origin: str) -> tuple[int, int, str | None]:
    """What a visitor from ``origin`` meets: the form's status, the beacon's, the CORS header."""
    app = create_app(app_config | {"ALLOWED_ORIGINS": allowed})
    client = app.test_client()
    headers = {"Origin": origin, "Accept": "application/json"} | BROWSER
    form = client.post(
        "/forms/guide",
        data={"email": "ada@example.com", "first_name": "Ada", "consent": "yes"},
        headers=headers,
    )
    beacon = client.post("/t/view/guide", json={"ref": ""}, headers=headers)
    return form.status_code, beacon.status_code, form.headers.get("Access-Control-Allow-Origin")


@pytest.mark.parametrize("allowed", SPELLINGS, ids=repr)
def test_our_site_is_allowed_on_the_form_the_beacon_and_cors_however_it_is_written(
    app_config, allowed
):
    assert _answers(app_config, allowed, ORIGIN) == (201, 204, ORIGIN)
    app = create_app(app_config | {"ALLOWED_ORIGINS": allowed})
    with app.app_context():
        s = db.session()
        views = select(func.count()).select_from(Event).where(Event.kind == "pageview")
        assert s.scalar(select(func.count()).select_from(Lead)) == 1 and s.scalar(views) == 1


@pytest.mark.parametrize("allowed", SPELLINGS, ids=repr)
def test_another_site_is_refused_on_all_three_however_ours_is_written(app_config, allowed):
    assert _answers(app_config, allowed, "https://evil.test") == (403, 403, None)
    # A look-alike whose origin merely starts with ours is another site too.
    assert _answers(app_config, allowed, "https://www.lodestone.test.evil.test") == (403, 403, None)
