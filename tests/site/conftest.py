"""Fixture sites built with real Pelican runs, as the official sitemap plugin's tests do."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pelican import Pelican
from pelican.plugins.sitemap import sitemap
from pelican.settings import read_settings

ROOT = Path(__file__).resolve().parents[2]
ASSET_BYTES = b"%PDF-1.4\n% Lodestone fixture asset: secret-guide-bytes-7f3a\n%%EOF\n"

LANDING = """Title: The Secret Guide
Slug: secret-guide
Template: landing
Summary: A fixture guide for the tests.
Offer: guide
Asset: secret-guide.pdf
Series: guide-series
Fields: first_name, email, company?, role?
Double_optin: no
Consent: I agree to emails. See the [privacy policy](/privacy/).
Consent_version: v1
Thank_you: Thanks, here it is.
Button: Send me the guide

Landing copy for the guide.
"""

LANDING_NO_CONSENT = """Title: Plain Offer
Slug: plain-offer
Template: landing
Summary: An offer without consent wording.
Offer: plain
Asset: secret-guide.pdf
Series: guide-series
Fields: email, phone?
Thank_you: Thanks.

Plain copy.
"""

ARTICLE = """Title: Fixture article
Date: 2026-01-02 10:00
Category: Tests
Tags: fixtures
Slug: fixture-article
Summary: The article summary used as meta description.
CTA: guide

First paragraph.

[cta:plain]

Last paragraph.
"""


def write_site(root: Path) -> Path:
    """A minimal but complete content tree: articles, landing pages, series, assets."""
    content = root / "content"
    for sub in ("articles", "landing", "pages", "emails/guide-series"):
        (content / sub).mkdir(parents=True, exist_ok=True)
    (root / "assets").mkdir(exist_ok=True)
    (root / "assets" / "secret-guide.pdf").write_bytes(ASSET_BYTES)
    (content / "landing" / "guide.md").write_text(LANDING)
    (content / "landing" / "plain.md").write_text(LANDING_NO_CONSENT)
    (content / "articles" / "fixture.md").write_text(ARTICLE)
    (content / "pages" / "privacy.md").write_text("Title: Privacy\nSlug: privacy\n\nPolicy.\n")
    shutil.copy(ROOT / "content" / "robots.txt", content / "robots.txt")
    series = content / "emails" / "guide-series"
    (series / "series.toml").write_text('title = "Guide"\nfrom_email = "a@example.com"\n')
    (series / "00-guide.md").write_text(
        "Subject: Your guide\nDelay: 0\n\n[Get it]({{ download_url }})\n"
    )
    (series / "confirm.md").write_text("Subject: Confirm\n\n[Confirm]({{ confirm_url }})\n")
    return root


def build(root: Path, **override) -> Path:
    """Run Pelican with the project's settings on the fixture tree; return the output folder."""
    output = root / "output"
    settings = read_settings(
        path=str(ROOT / "pelicanconf.py"),
        override={
            "PATH": str(root / "content"),
            "OUTPUT_PATH": str(output),
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
            "SITEURL": "https://www.example.test",
            "FEED_DOMAIN": "https://www.example.test",
            "FORMSERVER_URL": "https://forms.example.test",
            "LANDING": {
                "assets_path": str(root / "assets"),
                "emails_path": str(root / "content" / "emails"),
                "landing_path": str(root / "content" / "landing"),
            },
            **override,
        },
    )
    # The sitemap plugin keeps module state that an aborted earlier build leaves behind.
    sitemap.generator._main_pelican = None
    sitemap.generator.page_queue = []
    Pelican(settings).run()
    return output


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build shared by the read-only tests of a module."""
    return build(write_site(tmp_path_factory.mktemp("site")))


@pytest.fixture
def page() -> Callable[[Path, str], BeautifulSoup]:
    def parse(output: Path, path: str) -> BeautifulSoup:
        return BeautifulSoup((output / path).read_text(encoding="utf-8"), "html.parser")

    return parse
