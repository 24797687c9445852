"""In Chromium: the script fills the time-trap's stamp, a person's post is stored, a bot's not."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_journey import fill_playbook


def wait_for_stamp(page) -> None:
    """Until the script has filled the stamp (a locator wait: the page's CSP forbids eval)."""
    expect(page.locator("form.lead-form input[name=stamp]")).not_to_have_value("")


def exported(app) -> str:
    return app.test_cli_runner().invoke(args=["leads", "export"]).output


def test_the_script_fills_the_stamp_and_the_form_still_works(server, page) -> None:
    base, app = server
    page.goto(f"{base}/lead-nurturing-playbook/")
    wait_for_stamp(page)
    assert page.input_value("input[name=stamp]").startswith("playbook.")
    fill_playbook(page, "ada@example.com")
    page.wait_for_selector(".form-success >> text=Download now")
    assert "ada@example.com" in exported(app)


def test_a_form_sent_too_soon_gets_a_success_page_and_is_not_stored(server, page) -> None:
    base, app = server
    app.config["FORM_MIN_FILL_SECONDS"] = 3600  # nobody takes an hour: every post is "too soon"
    page.goto(f"{base}/lead-nurturing-playbook/")
    wait_for_stamp(page)
    fill_playbook(page, "bot@example.com")
    page.wait_for_selector(".form-success")  # the bot sees a success, so it learns nothing
    assert page.locator(".form-success >> text=Download now").count() == 0
    assert "bot@example.com" not in exported(app)


@pytest.mark.parametrize("page", [False], indirect=True, ids=["no-js"])
def test_without_javascript_there_is_no_stamp_and_the_lead_is_stored(server, page) -> None:
    base, app = server
    app.config["FORM_MIN_FILL_SECONDS"] = 3600
    page.goto(f"{base}/lead-nurturing-playbook/")
    assert page.input_value("input[name=stamp]") == ""
    fill_playbook(page, "grace@example.com")
    assert "/thanks/" in page.url
    assert "grace@example.com" in exported(app)
