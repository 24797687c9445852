"""Every page the form server answers with carries the security headers, and obeys its own CSP."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from formserver import create_app
from formserver.core import db
from formserver.dashboard import auth
from tests.admin.admin_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, login
from tests.capture.conftest import post_form
from tests.conftest import ROOT
from tests.drip.conftest import advance
from tests.site.conftest import build

PUBLIC = "https://forms.lodestone.test"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    f"font-src 'self'; connect-src 'self' {PUBLIC}; form-action 'self' {PUBLIC}; "
    "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


@pytest.fixture
def site(site: Path) -> Path:
    """The capture site with a marketing step, whose email carries an unsubscribe link."""
    step = "Subject: A tip\nDelay: 2 days\n\nA tip. [Unsubscribe]({{ unsubscribe_url }})\n"
    (site / "content" / "emails" / "guide-series" / "01-tip.md").write_text(step)
    return site


@pytest.fixture
def app_config(app_config: dict, smtp) -> dict:
    return app_config | {"MAIL_PORT": smtp[1]}


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    parts = (p.split() for p in response.headers["Content-Security-Policy"].split(";"))
    return {p[0]: p[1:] for p in parts if p}


def assert_headers(response, referrer: str = "strict-origin-when-cross-origin") -> None:
    """The full set, with the values a browser enforces."""
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == referrer
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Strict-Transport-Security"] == HSTS  # PUBLIC_URL is https


def assert_obeys_policy(response) -> None:
    """The HTML needs nothing the policy refuses: no inline script, style or handler."""
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.find("style") is None
    assert soup.select("[style]") == []
    assert [s for s in soup.find_all("script") if not s.get("src")] == []
    handlers = [(t.name, a) for t in soup.find_all(True) for a in t.attrs if a.startswith("on")]
    assert handlers == []
    assert not soup.select('[href^="javascript:"], [action^="javascript:"]')
    csp = policy(response)
    for tag, attr, directive in (("link", "href", "style-src"), ("script", "src", "script-src")):
        for element in soup.find_all(tag, attrs={attr: True}):
            if tag == "link" and "stylesheet" not in element.get("rel", []):
                continue
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(element[attr]))
            assert element[attr].startswith("/") or origin in csp[directive], element


def test_landing_page_of_the_development_site(app_config: dict, site: Path) -> None:
    output = build(site, SITEURL="", FORMSERVER_URL="")
    app = create_app(app_config | {"SERVE_SITE": True, "SITE_OUTPUT_PATH": str(output)})
    client = app.test_client()
    landing = client.get("/secret-guide/")
    assert landing.status_code == 200 and 'class="lead-form' in landing.text
    assert_headers(landing)
    assert_obeys_policy(landing)
    css = client.get("/theme/css/site.css")
    assert css.status_code == 200 and css.headers["X-Content-Type-Options"] == "nosniff"


def test_thank_you_page_and_download_after_a_real_post(client) -> None:
    posted = post_form(client)
    assert posted.status_code == 303
    thanks = client.get(posted.headers["Location"].removeprefix(PUBLIC))
    assert thanks.status_code == 200
    assert_headers(thanks, referrer="no-referrer")  # the URL holds the download token
    assert_obeys_policy(thanks)
    link = BeautifulSoup(thanks.text, "html.parser").select_one("a[href*='/download/']")["href"]
    download = client.get(link.removeprefix(PUBLIC))
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert_headers(download, referrer="no-referrer")


def test_form_page_after_an_invalid_post_and_json_answers(client) -> None:
    page = post_form(client, email="not-an-address")
    assert page.status_code == 422 and 'class="lead-form' in page.text
    assert_headers(page)
    assert_obeys_policy(page)
    answer = post_form(client, json=True)
    assert answer.status_code == 201 and answer.is_json
    assert_headers(answer)


def test_confirm_and_unsubscribe_pages_from_real_emails(app, client, runner, smtp) -> None:
    sink, _ = smtp
    assert post_form(client, offer="double", email="dora@example.com").status_code == 303
    assert post_form(client, email="ada@example.com").status_code == 303
    advance(app, runner, days=10)  # the confirm email, then the tip with its unsubscribe link
    pages = []
    for address, part in (("dora@example.com", "/confirm/"), ("ada@example.com", "/unsubscribe/")):
        message = sink.to(address)[-1]
        html = message.get_body(("html",)).get_content()
        url = re.search(rf'href="({PUBLIC}{part}[^"]+)"', html)[1]
        pages.append(client.get(url.removeprefix(PUBLIC)))
    confirm, unsubscribe = pages
    assert confirm.status_code == 200 and "confirm" in confirm.text.lower()
    assert unsubscribe.status_code == 200 and "Unsubscribe" in unsubscribe.text
    for page in pages:
        assert_headers(page, referrer="no-referrer")
        assert_obeys_policy(page)


def test_error_pages(client) -> None:
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert_headers(missing)
    assert_obeys_policy(missing)
    forged = client.get("/download/not-a-real-token")
    assert forged.status_code == 403
    assert_headers(forged, referrer="no-referrer")
    assert_obeys_policy(forged)


@pytest.fixture
def marketer(app) -> str:
    with app.app_context(), db.new_session() as s:
        auth.create_user(s, ADMIN_EMAIL, ADMIN_PASSWORD)
        s.commit()
    return ADMIN_EMAIL


def test_admin_login_and_dashboard_pages(client, marketer: str) -> None:
    page = client.get("/admin/login")
    assert page.status_code == 200 and 'name="password"' in page.text
    # The dashboard's own, stricter Referrer-Policy is kept: the hook never overwrites.
    assert_headers(page, referrer="same-origin")
    assert_obeys_policy(page)
    assert login(client).status_code == 303
    assert post_form(client).status_code == 303
    for url in ("/admin/", "/admin/offers/guide", "/admin/leads/", "/admin/leads/1"):
        dashboard = client.get(url)
        assert dashboard.status_code == 200, url
        assert_headers(dashboard, referrer="same-origin")
        assert_obeys_policy(dashboard)
    assert "<svg" in client.get("/admin/offers/guide").text  # the chart: attributes, no style
    export = client.get("/admin/leads/1/export.json")
    assert export.status_code == 200 and export.is_json
    assert_headers(export, referrer="same-origin")


def test_email_previews_alone_allow_the_inline_styles_of_emails(client, marketer: str) -> None:
    assert login(client).status_code == 303
    preview = client.get("/admin/series/guide-series")
    assert preview.status_code == 200 and "<iframe" in preview.text
    assert "'unsafe-inline'" in policy(preview)["style-src"]
    assert "'unsafe-inline'" not in policy(client.get("/admin/"))["style-src"]
    assert policy(preview)["script-src"] == ["'self'"]
    assert policy(preview)["frame-ancestors"] == ["'none'"]


def test_hsts_only_when_the_public_url_is_https(app_config: dict) -> None:
    plain = create_app(app_config | {"PUBLIC_URL": "http://127.0.0.1:8000"}).test_client()
    answer = plain.get("/no/such/page")
    assert "Strict-Transport-Security" not in answer.headers
    assert answer.headers["X-Frame-Options"] == "DENY"
    secure = create_app(app_config).test_client()
    assert secure.get("/no/such/page").headers["Strict-Transport-Security"] == HSTS


def test_theme_files_on_the_static_site_host_are_allowed(app_config: dict) -> None:
    """In production the theme's CSS and script come from the site's host, not the form server."""
    config = app_config | {"SITE_SETTINGS": str(ROOT / "publishconf.py")}
    client = create_app(config).test_client()
    page = post_form(client, email="not-an-address")
    assert page.status_code == 422
    site = "https://www.lodestone.example"  # publishconf.py's default SITEURL
    assert f'href="{site}/theme/css/site.css"' in page.text
    assert f'src="{site}/theme/js/lead-form.js"' in page.text
    assert policy(page)["style-src"] == ["'self'", site]
    assert policy(page)["script-src"] == ["'self'", site]
    assert_obeys_policy(page)
