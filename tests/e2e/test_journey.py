"""A lead's whole journey in a real browser: article, CTA, form, download, emails, unsubscribe."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT

PLAYBOOK = (ROOT / "assets" / "lead-nurturing-playbook.pdf").read_bytes()
CHECKLIST = (ROOT / "assets" / "landing-page-checklist.pdf").read_bytes()


def tick(app, when: datetime) -> None:
    result = app.test_cli_runner().invoke(args=["drip", "tick", "--now", when.isoformat()])
    assert result.exit_code == 0, result.output


def link_in(message, part: str) -> str:
    html = message.get_body(("html",)).get_content()
    return re.search(rf'href="([^"]*{part}[^"]*)"', html).group(1)


def download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def fill_playbook(page, email: str) -> None:
    page.fill("#f-first_name", "Grace")
    page.fill("#f-email", email)
    page.select_option("#f-role", "marketing")
    page.check("#f-consent")
    page.click("form.lead-form button[type=submit]")


@pytest.mark.parametrize("page", [False], indirect=True, ids=["no-js"])
def test_journey_without_javascript(server, page, smtp) -> None:
    base, app = server
    sink, _ = smtp
    page.goto(f"{base}/")
    page.click("text=How to build an email nurturing sequence")
    page.click("aside.cta >> text=Get The Lead Nurturing Playbook")
    assert page.url == f"{base}/lead-nurturing-playbook/"
    fill_playbook(page, "grace@example.com")
    assert "/thanks/" in page.url
    assert "Your playbook is ready" in page.text_content("main")
    assert download(page, "text=Download The Lead Nurturing Playbook") == PLAYBOOK

    tick(app, datetime.now(UTC))  # the worker's pass: the asset email goes at once
    [asset] = sink.to("grace@example.com")
    assert asset["Subject"] == "Your copy of The Lead Nurturing Playbook"
    response = page.request.get(link_in(asset, "/download/"))
    assert response.body() == PLAYBOOK

    tick(app, datetime.now(UTC) + timedelta(days=9))  # past step 1's window opening
    assert len(sink.to("grace@example.com")) == 2
    tip = sink.to("grace@example.com")[1]
    assert tip["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page.goto(link_in(tip, "/unsubscribe/"))
    assert "Unsubscribe from our emails?" in page.text_content("main")
    page.click("text=Unsubscribe me")
    assert "You are unsubscribed" in page.text_content("main")
    tick(app, datetime.now(UTC) + timedelta(days=60))
    assert len(sink.to("grace@example.com")) == 2


def test_journey_with_javascript(server, page, smtp) -> None:
    base, app = server
    sink, _ = smtp
    page.goto(f"{base}/lead-nurturing-playbook/?utm_source=newsletter&utm_campaign=nov")
    assert page.input_value("input[name=utm_source]") == "newsletter"
    assert page.input_value("input[name=tz]")  # the browser's zone
    fill_playbook(page, "ada@example.com")
    page.wait_for_selector(".form-success")
    assert page.url == f"{base}/lead-nurturing-playbook/?utm_source=newsletter&utm_campaign=nov"
    assert "Your playbook is ready" in page.text_content(".form-success")
    assert download(page, ".form-success >> text=Download now") == PLAYBOOK
    tick(app, datetime.now(UTC))
    assert [m["Subject"] for m in sink.to("ada@example.com")] == [
        "Your copy of The Lead Nurturing Playbook"
    ]
    rows = app.test_cli_runner().invoke(args=["leads", "export"]).output
    assert "ada@example.com" in rows and "newsletter" in rows and "nov" in rows


@pytest.mark.parametrize("page", [True, False], indirect=True, ids=["js", "no-js"])
def test_invalid_input_shows_errors_next_to_the_fields(server, page) -> None:
    base, _ = server
    page.goto(f"{base}/lead-nurturing-playbook/")
    page.fill("#f-first_name", "Grace")
    page.fill("#f-email", "not-an-email")
    page.click("form.lead-form button[type=submit]")
    page.wait_for_selector("#e-email:not(:empty)")
    assert "valid email address" in page.text_content("#e-email")
    assert "tick the box" in page.text_content("#e-consent")
    assert page.get_attribute("#f-email", "aria-invalid") == "true"
    assert page.input_value("#f-first_name") == "Grace"  # kept


def test_double_opt_in_confirms_through_its_page(server, page, smtp) -> None:
    base, app = server
    sink, _ = smtp
    page.goto(f"{base}/landing-page-checklist/")
    page.fill("#f-email", "lin@example.com")
    page.check("#f-consent")
    page.click("form.lead-form button[type=submit]")
    page.wait_for_selector(".form-success")
    assert "confirm your address" in page.text_content(".form-success")
    tick(app, datetime.now(UTC))
    [confirm] = sink.to("lin@example.com")
    page.goto(link_in(confirm, "/confirm/"))
    assert "Confirm your email address" in page.text_content("main")
    tick(app, datetime.now(UTC))
    assert len(sink.to("lin@example.com")) == 1  # opening the link confirmed nothing
    page.click("text=Yes, confirm my email")
    assert "you are confirmed" in page.text_content("main")
    tick(app, datetime.now(UTC))
    asset = sink.to("lin@example.com")[1]
    assert asset["Subject"] == "Here is The Landing Page Checklist"
    assert page.request.get(link_in(asset, "/download/")).body() == CHECKLIST
