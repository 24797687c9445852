"""Share cards and the sitemap: every article and offer has an og:image, the 404 is not indexed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.site.conftest import build, write_site

SITE = "https://www.example.test"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
DEFAULT_IMAGE = f"{SITE}/theme/img/og-default.png"


def _locs(output: Path) -> list[str]:
    tree = ET.parse(output / "sitemap.xml")
    return [loc.text or "" for loc in tree.getroot().iterfind("s:url/s:loc", NS)]


def _og_image(page, output: Path, path: str) -> list[str]:
    return [m["content"] for m in page(output, path).find_all("meta", property="og:image")]


def test_the_sitemap_leaves_out_the_404_page(built_site):
    locs = _locs(built_site)
    assert (built_site / "404.html").exists()
    assert f"{SITE}/blog/fixture-article/" in locs
    assert not [loc for loc in locs if "404" in loc]


def test_articles_and_landing_pages_share_the_default_image(built_site, page):
    for path in ("blog/fixture-article/index.html", "secret-guide/index.html", "index.html"):
        assert _og_image(page, built_site, path) == [DEFAULT_IMAGE], path
    # The image a share card points to is really published.
    assert (built_site / "theme" / "img" / "og-default.png").stat().st_size > 1000


def test_a_page_can_choose_its_own_image(tmp_path, page):
    root = write_site(tmp_path / "site")
    article = root / "content" / "articles" / "fixture.md"
    article.write_text(article.read_text().replace("CTA:", "Og_image: /images/card.png\nCTA:", 1))
    landing = root / "content" / "landing" / "plain.md"
    landing.write_text("Og_image: https://cdn.example.test/plain.png\n" + landing.read_text())
    output = build(root)
    assert _og_image(page, output, "blog/fixture-article/index.html") == [f"{SITE}/images/card.png"]
    assert _og_image(page, output, "plain-offer/index.html") == [
        "https://cdn.example.test/plain.png"
    ]
    assert _og_image(page, output, "secret-guide/index.html") == [DEFAULT_IMAGE]


def test_the_development_build_uses_absolute_share_urls(tmp_path, page):
    # pelicanconf's SITEURL is "" in development; share cards still need a full URL.
    output = build(write_site(tmp_path / "site"), SITEURL="", FEED_DOMAIN="http://127.0.0.1:8000")
    assert _og_image(page, output, "blog/fixture-article/index.html") == [
        "http://127.0.0.1:8000/theme/img/og-default.png"
    ]
