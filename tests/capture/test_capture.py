"""A valid submission stores one lead, its submission and consent, and leads to the asset."""

from __future__ import annotations

from sqlalchemy import func, select

from formserver.core import db
from formserver.core.models import Consent, Enrolment, Event, Lead, Send, Submission
from tests.capture.conftest import ORIGIN, post_form
from tests.site.conftest import ASSET_BYTES


def count(app, model) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


def test_no_js_submission_redirects_to_a_thank_you_page_with_the_asset(app, client) -> None:
    response = post_form(client, utm_source="newsletter", tz="Europe/Paris")
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"].removeprefix("https://forms.lodestone.test"))
    assert thanks.status_code == 200
    assert "Thanks, here it is." in thanks.text
    assert '<link rel="stylesheet"' in thanks.text  # the site's theme
    link = thanks.text.split('href="https://forms.lodestone.test/download/')[1].split('"')[0]
    download = client.get(f"/download/{link}")
    assert download.status_code == 200
    assert download.data == ASSET_BYTES
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(ASSET_BYTES))
    assert "attachment; filename=secret-guide.pdf" in download.headers["Content-Disposition"]


def test_submission_is_stored_whole(app, client) -> None:
    post_form(
        client,
        email="  Ada@Example.COM ",
        company="Analytical Engines",
        role="founder",
        utm_source="linkedin",
        utm_medium="social",
        utm_campaign="autumn",
        tz="Europe/Paris",
        headers={
            "Referer": f"{ORIGIN}/secret-guide/?utm_source=linkedin",
            "User-Agent": "Mozilla/5.0 Test",
        },
    )
    with app.app_context():
        s = db.session()
        lead = s.scalar(select(Lead))
        assert (lead.email, lead.first_name, lead.company) == (
            "ada@example.com",
            "Ada",
            "Analytical Engines",
        )
        assert lead.attributes == {"role": "founder"}
        assert lead.time_zone == "Europe/Paris" and lead.status == "active"
        sub = s.scalar(select(Submission))
        assert (sub.offer_id, sub.utm_source, sub.utm_medium, sub.utm_campaign) == (
            "guide",
            "linkedin",
            "social",
            "autumn",
        )
        assert sub.referrer.startswith(f"{ORIGIN}/secret-guide/")
        assert sub.user_agent == "Mozilla/5.0 Test"
        assert sub.ip == "127.0.0.0"  # anonymized by default
        assert sub.fields["company"] == "Analytical Engines"
        consent = s.scalar(select(Consent))
        assert consent.wording == "I agree to emails. See the [privacy policy](/privacy/)."
        assert consent.version == "v1" and consent.given_at is not None
        assert consent.confirmed_at is None
        assert [e.kind for e in s.scalars(select(Event))][0] == "submitted"


def test_second_submission_gives_the_asset_again_without_duplicates(app, client) -> None:
    assert post_form(client).status_code == 303
    again = post_form(client, email="ADA@example.com", company="New Co")
    assert again.status_code == 303 and "/thanks/" in again.headers["Location"]
    assert count(app, Lead) == 1
    assert count(app, Submission) == 2
    assert count(app, Enrolment) == 1
    assert count(app, Send) == 1
    with app.app_context():
        assert db.session().scalar(select(Lead.company)) == "New Co"


def test_empty_optional_field_never_blanks_a_known_value(app, client) -> None:
    post_form(client, company="Kept Ltd")
    post_form(client, company="")
    with app.app_context():
        assert db.session().scalar(select(Lead.company)) == "Kept Ltd"


def test_json_submission_answers_201_with_links(app, client) -> None:
    response = post_form(client, json=True)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "ok" and body["message"] == "Thanks, here it is."
    assert body["download_url"].startswith("https://forms.lodestone.test/download/")
    assert body["thank_you_url"].startswith("https://forms.lodestone.test/thanks/")
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_json_body_is_accepted_too(app, client) -> None:
    response = client.post(
        "/forms/guide",
        json={"email": "json@example.com", "first_name": "Jay", "consent": True},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 201
    assert count(app, Lead) == 1


def test_double_opt_in_offer_asks_to_check_the_inbox(app, client) -> None:
    response = post_form(client, offer="double", first_name=None)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Check your inbox" in page.text and "/download/" not in page.text
    as_json = post_form(client, offer="double", json=True, email="b@example.com")
    assert as_json.get_json() == {"status": "confirm", "message": "Check your inbox."}
    with app.app_context():
        s = db.session()
        assert {lead.status for lead in s.scalars(select(Lead))} == {"unconfirmed"}
        assert {e.status for e in s.scalars(select(Enrolment))} == {"pending"}
        assert {x.kind for x in s.scalars(select(Send))} == {"confirm"}


def test_new_lead_is_enrolled_and_its_asset_email_is_due(app, client) -> None:
    post_form(client)
    with app.app_context():
        enrolment = db.session().scalar(select(Enrolment))
        send = db.session().scalar(select(Send))
        assert (enrolment.series, enrolment.status, enrolment.offer_id) == (
            "guide-series",
            "active",
            "guide",
        )
        assert (send.kind, send.step, send.status) == ("step", 0, "queued")
