"""In Chromium, the site and the dashboard run under their Content-Security-Policy, unbroken."""

from __future__ import annotations

import pytest

from formserver.core import db
from formserver.dashboard import auth

EMAIL, PASSWORD = "marketer@lodestone.test", "correct horse battery"
# Counts `securitypolicyviolation` events in every document, before any of its own code runs.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP report from the console and from the DOM kept in a list."""
    reports: list[str] = []
    page.add_init_script(LISTEN)

    def console(msg) -> None:
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            reports.append(msg.text)

    page.on("console", console)
    page.on("pageerror", lambda error: reports.append(f"page error: {error}"))
    return page, reports


def violations(page, reports: list[str]) -> list[str]:
    return reports + page.evaluate("window.__violations || []")


def test_landing_page_and_form_under_the_policy(server, watched) -> None:
    base, _ = server
    page, reports = watched
    response = page.goto(f"{base}/lead-nurturing-playbook/?utm_source=csp")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.input_value("input[name=utm_source]") == "csp"  # the script ran
    assert page.eval_on_selector(".hp", "e => getComputedStyle(e).position") == "absolute"
    page.fill("#f-first_name", "Grace")
    page.fill("#f-email", "grace@example.com")
    page.select_option("#f-role", "marketing")
    page.check("#f-consent")
    page.click("form.lead-form button[type=submit]")
    page.wait_for_selector(".form-success")  # fetch() to the form server was allowed
    assert "Your playbook is ready" in page.text_content(".form-success")
    assert violations(page, reports) == []


def test_dashboard_and_email_previews_under_the_policy(server, watched) -> None:
    base, app = server
    page, reports = watched
    with app.app_context(), db.new_session() as s:
        auth.create_user(s, EMAIL, PASSWORD)
        s.commit()
    page.goto(f"{base}/admin/login")
    page.fill("#f-email", EMAIL)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.admin-nav")
    # The dashboard's rules moved from a <style> element to site.css: they still apply.
    assert page.eval_on_selector(".admin-nav ul", "e => getComputedStyle(e).display") == "flex"
    page.goto(f"{base}/admin/offers/playbook")
    assert page.eval_on_selector("svg.chart", "e => getComputedStyle(e).maxWidth") == "720px"
    page.goto(f"{base}/admin/leads/")
    page.goto(f"{base}/admin/series/playbook-nurture")
    frame = page.frame_locator("iframe.email-frame").first
    # The email's own <style> renders in its preview frame.
    background = frame.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(245, 247, 251)"
    assert violations(page, reports) == []
