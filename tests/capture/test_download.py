"""Signed, expiring download links: bytes, ranges, revalidation, expiry, tampering, renewal."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Download, Event
from formserver.core.tokens import make_token
from tests.capture.conftest import post_form
from tests.site.conftest import ASSET_BYTES


def link(client) -> str:
    body = post_form(client, json=True).get_json()
    return body["download_url"].removeprefix("https://forms.lodestone.test")


def downloads(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Download))


def old_token(app, payload: dict, age: int) -> str:
    """A genuine token signed ``age`` seconds ago."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    serializer = URLSafeTimedSerializer(
        [app.config["SECRET_KEY"]], salt="lodestone-download", signer=PastSigner
    )
    return serializer.dumps(payload)


def test_byte_ranges_and_conditional_requests(app, client) -> None:
    url = link(client)
    part = client.get(url, headers={"Range": "bytes=5-14"})
    assert part.status_code == 206
    assert part.data == ASSET_BYTES[5:15]
    full = client.get(url)
    etag = full.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.head(url).status_code == 200
    assert downloads(app) == 1  # the full GET; not the resumed range, the 304 or the HEAD


def test_each_download_is_recorded(app, client) -> None:
    url = link(client)
    client.get(url)
    client.get(url)
    assert downloads(app) == 2
    with app.app_context():
        kinds = db.session().scalars(select(Event.kind).where(Event.kind == "downloaded"))
        assert len(list(kinds)) == 2


def test_tampered_and_foreign_tokens_are_403(app, client) -> None:
    url = link(client)
    assert client.get(url[:-3] + "abc").status_code == 403
    assert client.get("/download/garbage").status_code == 403
    with app.test_request_context():
        other_purpose = make_token("unsubscribe", {"l": 1, "o": "guide", "a": "secret-guide.pdf"})
        other_asset = make_token("download", {"l": 1, "o": "guide", "a": "other.pdf"})
        unknown_lead = make_token("download", {"l": 999, "o": "guide", "a": "secret-guide.pdf"})
    for token in (other_purpose, other_asset, unknown_lead):
        response = client.get(f"/download/{token}")
        assert response.status_code == 403 and "not valid" in response.text
    assert downloads(app) == 0


def test_expired_link_emails_a_fresh_one_to_the_right_address(app_config, smtp) -> None:
    sink, port = smtp
    app = create_app(app_config | {"MAIL_PORT": port})
    client = app.test_client()
    post_form(client)
    token = old_token(app, {"l": 1, "o": "guide", "a": "secret-guide.pdf"}, 8 * 24 * 3600)
    expired = client.get(f"/download/{token}")
    assert expired.status_code == 410
    assert "has expired" in expired.text and 'name="email"' in expired.text
    wrong = client.post("/download/renew", data={"token": token, "email": "eve@example.com"})
    assert wrong.status_code == 422 and "does not match" in wrong.text
    right = client.post("/download/renew", data={"token": token, "email": "ADA@example.com "})
    assert right.status_code == 200 and "emailed you a fresh link" in right.text
    assert "/download/" not in right.text  # the link goes to the inbox, not to whoever asked
    result = app.test_cli_runner().invoke(args=["drip", "tick"])
    assert result.exit_code == 0, result.output
    fresh = [m for m in sink.to("ada@example.com")][-1]
    text = fresh.get_body(("plain",)).get_content()
    link = text.split("https://forms.lodestone.test")[1].split(")")[0]
    assert client.get(link).data == ASSET_BYTES
    forged = client.post("/download/renew", data={"token": token + "x", "email": "ada@example.com"})
    assert forged.status_code == 403


def test_accel_redirect_mode_hands_the_file_to_nginx(app_config) -> None:
    app = create_app(app_config | {"ASSET_DELIVERY": "x-accel-redirect"})
    client = app.test_client()
    response = client.get(link(client))
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Accel-Redirect"] == "/protected-assets/secret-guide.pdf"
    assert "secret-guide.pdf" in response.headers["Content-Disposition"]


def test_sendfile_mode(app_config, site) -> None:
    app = create_app(app_config | {"ASSET_DELIVERY": "x-sendfile"})
    client = app.test_client()
    response = client.get(link(client))
    assert response.headers["X-Sendfile"] == str((site / "assets" / "secret-guide.pdf").resolve())
