"""Capture tests run the real app against fixture offers on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.site.conftest import write_site

ORIGIN = "https://www.lodestone.test"
DOI_LANDING = """Title: Double Offer
Slug: double-offer
Template: landing
Summary: Needs confirmation.
Offer: double
Asset: secret-guide.pdf
Series: guide-series
Fields: email, first_name?
Double_optin: yes
Consent: Yes please. See the [privacy policy](/privacy/).
Consent_version: v2
Thank_you: Check your inbox.
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = write_site(tmp_path / "site")
    (root / "content" / "landing" / "double.md").write_text(DOI_LANDING)
    return root


@pytest.fixture
def app_config(app_config: dict, site: Path) -> dict:
    return app_config | {
        "CONTENT_PATH": str(site / "content"),
        "ASSETS_PATH": str(site / "assets"),
    }


def post_form(client, offer: str = "guide", json: bool = False, headers=None, **fields):
    """Post a submission the way our landing page does: from our origin."""
    values = {"first_name": "Ada", "email": "ada@example.com", "consent": "yes"} | fields
    values = {k: v for k, v in values.items() if v is not None}
    sent = {"Origin": ORIGIN} | (headers or {})
    if json:
        sent["Accept"] = "application/json"
        return client.post(f"/forms/{offer}", data=values, headers=sent)
    return client.post(f"/forms/{offer}", data=values, headers=sent)
