"""Landing pages carry a working lead form; articles carry calls to action; assets stay private."""

from __future__ import annotations

from pathlib import Path

from tests.site.conftest import ASSET_BYTES


def test_form_posts_to_the_form_server(built_site: Path, page) -> None:
    form = page(built_site, "secret-guide/index.html").find("form", class_="lead-form")
    assert form["method"] == "post"
    assert form["action"] == "https://forms.example.test/forms/guide"


def test_each_field_has_type_autocomplete_label_and_required(built_site: Path, page) -> None:
    soup = page(built_site, "secret-guide/index.html")
    form = soup.find("form", class_="lead-form")
    expected = {
        "first_name": ("text", "given-name", True),
        "email": ("email", "email", True),
        "company": ("text", "organization", False),
    }
    for name, (kind, autocomplete, required) in expected.items():
        field = form.find("input", attrs={"name": name})
        assert field["type"] == kind
        assert field["autocomplete"] == autocomplete
        assert field.has_attr("required") is required
        label = form.find("label", attrs={"for": field["id"]})
        assert label is not None and label.get_text(strip=True)
    role = form.find("select", attrs={"name": "role"})
    assert [o["value"] for o in role.find_all("option")][1:] == [
        "marketing",
        "sales",
        "founder",
        "operations",
        "other",
    ]
    assert form.find("button", type="submit").get_text(strip=True) == "Send me the guide"


def test_honeypot_attribution_and_time_zone_fields(built_site: Path, page) -> None:
    form = page(built_site, "secret-guide/index.html").find("form", class_="lead-form")
    honeypot = form.find("input", attrs={"name": "website"})
    assert honeypot["tabindex"] == "-1" and honeypot["autocomplete"] == "off"
    assert "hp" in honeypot.find_parent("div")["class"]
    hidden = {i["name"] for i in form.find_all("input", type="hidden")}
    assert hidden == {
        *("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "tz"),
        "stamp",  # the time-trap's render time: empty in the static page, the script fills it
    }
    assert form.find("input", attrs={"name": "stamp"})["value"] == ""


def test_consent_checkbox_only_when_the_offer_asks(built_site: Path, page) -> None:
    guide = page(built_site, "secret-guide/index.html").find("input", attrs={"name": "consent"})
    assert guide["type"] == "checkbox" and guide.has_attr("required")
    label = page(built_site, "secret-guide/index.html").find("label", attrs={"for": "f-consent"})
    assert label.find("a")["href"] == "/privacy/"
    plain = page(built_site, "plain-offer/index.html")
    assert plain.find("input", attrs={"name": "consent"}) is None
    assert plain.find("input", attrs={"name": "phone"})["type"] == "tel"


def test_landing_page_loads_the_enhancement_script(built_site: Path, page) -> None:
    scripts = [s["src"] for s in page(built_site, "secret-guide/index.html").find_all("script")]
    assert scripts == ["https://www.example.test/theme/js/lead-form.js"]
    assert (built_site / "theme" / "js" / "lead-form.js").is_file()


def test_article_gets_cta_boxes_from_metadata_and_shortcode(built_site: Path, page) -> None:
    soup = page(built_site, "blog/fixture-article/index.html")
    boxes = soup.find_all("aside", class_="cta")
    links = [box.find("a")["href"] for box in boxes]
    assert links == [
        "https://www.example.test/plain-offer/",  # the [cta:plain] shortcode, inside the body
        "https://www.example.test/secret-guide/",  # the CTA: guide metadata, after the body
    ]
    assert "[cta:" not in soup.get_text()
    assert "A fixture guide for the tests." in boxes[1].get_text()


def test_gated_asset_never_reaches_the_output(built_site: Path) -> None:
    for path in built_site.rglob("*"):
        assert "secret-guide.pdf" not in path.name
        if path.is_file():
            data = path.read_bytes()
            assert ASSET_BYTES not in data
            assert b"secret-guide.pdf" not in data, path


def test_seo_basics(built_site: Path, page) -> None:
    soup = page(built_site, "blog/fixture-article/index.html")
    assert soup.find("meta", attrs={"name": "description"})["content"] == (
        "The article summary used as meta description."
    )
    canonical = soup.find("link", rel="canonical")["href"]
    assert canonical == "https://www.example.test/blog/fixture-article/"
    assert soup.find("meta", property="og:url")["content"] == canonical
    assert soup.find("meta", property="og:title")["content"].startswith("Fixture article")
    assert soup.find("meta", property="og:type")["content"] == "article"
    assert soup.find("html")["lang"] == "en"
    assert soup.find("main") and soup.find("nav") and soup.find("footer")


def test_sitemap_feed_robots_and_404(built_site: Path) -> None:
    sitemap = (built_site / "sitemap.xml").read_text()
    assert "https://www.example.test/secret-guide/" in sitemap
    assert "https://www.example.test/blog/fixture-article/" in sitemap
    feed = (built_site / "feeds" / "all.atom.xml").read_text()
    assert "Fixture article" in feed
    assert (
        "Sitemap: https://www.example.test/sitemap.xml" in (built_site / "robots.txt").read_text()
    )
    assert "Page not found" in (built_site / "404.html").read_text()


def test_drip_emails_are_not_published(built_site: Path) -> None:
    assert not any("emails" in p.parts or p.name == "series.toml" for p in built_site.rglob("*"))
    assert not any(
        "{{ download_url }}" in p.read_text(errors="ignore") for p in built_site.rglob("*.html")
    )
