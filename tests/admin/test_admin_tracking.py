"""Page views without cookies or personal data; clicks only ever lead where the email pointed."""

from __future__ import annotations

import struct
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import Event, Lead
from formserver.core.tokens import make_token
from formserver.mail import links as mail_links
from tests.admin.admin_helpers import T0, sent

BROWSER = {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15"}


def _events(app, kind: str) -> list[Event]:
    with db.new_session(app) as s:
        return list(s.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def test_beacon_records_an_anonymous_view(app, client):
    response = client.post(
        "/t/view/playbook",
        data={
            "ref": "https://www.Google.com/search?q=secret+stuff",
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": "spring",
            "utm_term": "not-kept",
            "email": "nosy@example.com",
        },
        headers={**BROWSER, "Origin": "https://www.lodestone.test"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    assert response.status_code == 204
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    [view] = _events(app, "pageview")
    assert view.offer_id == "playbook" and view.lead_id is None
    assert view.data == {
        "referrer_host": "www.google.com",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
    }


def test_beacon_accepts_json_too(app, client):
    response = client.post("/t/view/checklist", json={"utm_source": "x"}, headers=BROWSER)
    assert response.status_code == 204
    assert _events(app, "pageview")[0].data["utm_source"] == "x"


def test_no_js_pixel_is_a_fresh_one_pixel_gif(app, client):
    response = client.get(
        "/t/view/playbook.gif",
        headers={**BROWSER, "Referer": "https://www.lodestone.test/playbook/?utm_source=ads&x=1"},
    )
    assert response.status_code == 200
    assert response.mimetype == "image/gif"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert response.data[:6] == b"GIF89a"
    assert struct.unpack("<HH", response.data[6:10]) == (1, 1)
    [view] = _events(app, "pageview")
    assert view.data["utm_source"] == "ads" and view.data["referrer_host"] == ""


@pytest.mark.parametrize(
    "agent",
    ["", "Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", "HeadlessChrome/126"],
)
def test_bots_are_not_counted(app, client, agent):
    assert client.post("/t/view/playbook", headers={"User-Agent": agent}).status_code == 204
    assert client.get("/t/view/playbook.gif", headers={"User-Agent": agent}).status_code == 200
    assert _events(app, "pageview") == []


def test_unknown_offer_is_404(client):
    assert client.post("/t/view/nope", headers=BROWSER).status_code == 404
    assert client.get("/t/view/nope.gif", headers=BROWSER).status_code == 404
    assert client.post("/t/view/..%2Fetc", headers=BROWSER).status_code == 404


def test_beacon_from_a_foreign_origin_is_refused(app, client):
    response = client.post("/t/view/playbook", headers={**BROWSER, "Origin": "https://evil.test"})
    assert response.status_code == 403
    assert _events(app, "pageview") == []


@pytest.fixture
def send_id(make_lead, add_rows) -> int:
    lead_id = make_lead("ada@example.com", company="https://evil.example/")
    return add_rows(sent(lead_id, T0, step=1))[0]


def _click(app, client, send: int, url: str, headers=BROWSER):
    """Follow a click link signed for ``url`` (as if the email had contained it)."""
    with app.test_request_context():
        token = make_token("click", {"s": send, "u": url})
    return client.get(f"/c/{token}", headers=headers)


def test_tracked_url_is_a_signed_link_on_the_form_server(app, send_id):
    with app.test_request_context():
        link = mail_links.tracked_url(send_id, "https://docs.example.org/start")
        assert mail_links.tracked_url(send_id, "javascript:alert(1)") == "javascript:alert(1)"
    assert link.startswith("https://forms.lodestone.test/c/")
    assert "docs.example.org" not in link


@pytest.mark.parametrize(
    "url",
    [
        "https://partner.example.com/tool?ref=lodestone&x=1",
        "https://docs.example.org/start",
        "https://app.example.net/u/42/dashboard",  # {{ lead.id }} inside the path
        "https://www.lodestone.test/blog/guide/",
        "https://www.lodestone.test/any/page/of/our/site/",  # our own site: always fine
    ],
)
def test_click_on_a_link_of_the_email_redirects_and_is_recorded(app, client, send_id, url):
    response = _click(app, client, send_id, url)
    assert response.status_code == 302
    assert response.headers["Location"] == url
    assert response.headers["Referrer-Policy"] == "no-referrer"
    [click] = _events(app, "clicked")
    assert click.offer_id == "playbook"
    assert click.data == {"send_id": send_id, "series": "nurture", "step": 1, "url": url}
    with db.new_session(app) as s:
        assert s.get(Lead, click.lead_id).score == 13  # submitted 10 + clicked 3


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",  # what {{ lead.company }} rendered to: a hole as the whole URL
        "https://evil.example/phish",
        "https://partner.example.com/tool?ref=lodestone&x=2",
        "https://app.example.net.evil.example/u/1/dashboard",
        "https://partner.example.com.evil.example/tool?ref=lodestone&x=1",
        "javascript:alert(1)",
        "//evil.example/",
    ],
)
def test_click_to_a_url_not_in_the_template_is_refused(app, client, send_id, url):
    response = _click(app, client, send_id, url)
    assert response.status_code == 403
    assert "Location" not in response.headers
    assert "does not lead anywhere" in response.text
    assert _events(app, "clicked") == []


def test_tampered_or_foreign_tokens_are_refused(app, client, send_id):
    with app.test_request_context():
        good = urlsplit(mail_links.tracked_url(send_id, "https://docs.example.org/start")).path
        download_token = make_token("download", {"s": send_id, "u": "https://evil.example/"})
    assert client.get(good[:-3] + "abc").status_code == 400
    assert client.get(f"/c/{download_token}").status_code == 400
    assert client.get("/c/not-a-token").status_code == 400
    with app.test_request_context():
        missing = make_token("click", {"s": 99999, "u": "https://docs.example.org/start"})
        broken = make_token("click", {"s": "1", "u": 5})
    assert client.get(f"/c/{missing}").status_code == 404
    assert client.get(f"/c/{broken}").status_code == 400


def test_clicks_by_scanners_redirect_without_counting(app, client, send_id):
    response = _click(
        app, client, send_id, "https://docs.example.org/start", {"User-Agent": "Barracuda scanner"}
    )
    assert response.status_code == 302
    assert _events(app, "clicked") == []


SCANNERS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0; BingPreview/1.0b)",
    "Mozilla/5.0 (compatible; Barracuda Sentinel)",
    "Microsoft-Defender-SafeLinks",
    "Proofpoint URL Defense",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36",
    "python-requests/2.32.3",
]
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def test_real_scanner_user_agents_are_not_counted_and_a_browser_is(app, client, send_id):
    url = "https://docs.example.org/start"
    for agent in SCANNERS:
        assert _click(app, client, send_id, url, {"User-Agent": agent}).status_code == 302
    assert _events(app, "clicked") == []
    assert _click(app, client, send_id, url, {"User-Agent": CHROME}).status_code == 302
    assert len(_events(app, "clicked")) == 1


def test_track_links_rewrites_only_external_links(app):
    html = (
        '<p><a href="https://partner.example.com/tool?ref=lodestone&amp;x=1">tool</a> '
        '<a href="mailto:hello@lodestone.test">mail</a> '
        '<a href="https://forms.lodestone.test/unsubscribe/abc">unsubscribe</a></p>'
    )
    with app.test_request_context():
        out = mail_links.track_links(html, 7)
    assert out.count("https://forms.lodestone.test/c/") == 1
    assert 'href="mailto:hello@lodestone.test"' in out
    assert 'href="https://forms.lodestone.test/unsubscribe/abc"' in out
    assert "partner.example.com" not in out


def test_track_links_parses_html_instead_of_matching_text(app):
    """Any quoting is a link; a link in a comment or <style> is not; other bytes stay put."""
    html = (
        "<style>/* <a href='https://old.example.com/'> */ a { color: red; }</style>\n"
        '<!--[if mso]><a href="https://mso.example.com/">x</a><![endif]-->\n'
        "<p>Caf\u00e9 &amp; <b>more</b>: <a class=cta href=https://a.example.com/1>one</a>\n"
        "<a\n   style=\"font-family: 'Inter'\" href='https://b.example.com/2?x=1&amp;y=2'>two</a>"
        "</p>"
    )
    with app.test_request_context():
        out = mail_links.track_links(html, 7)
    assert out.count("https://forms.lodestone.test/c/") == 2
    assert "a.example.com" not in out and "b.example.com" not in out
    assert '<a class="cta" href="https://forms.lodestone.test/c/' in out
    assert 'style="font-family: \'Inter\'" href="https://forms.lodestone.test/c/' in out
    # Everything but the two rewritten start tags is byte for byte the original.
    assert out.split("<a class=")[0] == html.split("<a class=")[0]
    assert out.endswith(">two</a></p>")


def test_a_rewritten_link_round_trips(app, client, send_id):
    html = '<a href="https://partner.example.com/tool?ref=lodestone&amp;x=1">tool</a>'
    with app.test_request_context():
        out = mail_links.track_links(html, send_id)
    href = out.split('"')[1]
    response = client.get(urlsplit(href).path, headers=BROWSER)
    assert response.headers["Location"] == "https://partner.example.com/tool?ref=lodestone&x=1"


def test_opens_are_not_tracked_by_default(app, client, send_id):
    with app.test_request_context():
        assert mail_links.open_pixel(send_id) == ""
        token = make_token("click", {"s": send_id, "o": 1})
    assert client.get(f"/t/open/{token}.gif", headers=BROWSER).status_code == 404


def test_opens_are_tracked_once_when_turned_on(app, client, send_id):
    app.config["TRACK_OPENS"] = True
    with app.test_request_context():
        pixel = mail_links.open_pixel(send_id)
    src = pixel.split('"')[1]
    for _ in range(2):
        response = client.get(urlsplit(src).path, headers=BROWSER)
        assert response.status_code == 200 and response.mimetype == "image/gif"
    assert len(_events(app, "opened")) == 1
