"""Scores come from configurable rules over a lead's activity; tags and scores can stop a series."""

from __future__ import annotations

from datetime import timedelta

import pytest

from formserver.core import catalog, db
from formserver.core.models import Lead
from formserver.domain import events as hooks
from formserver.domain import scoring, tags
from formserver.domain.activity import lead_activities
from tests.admin.admin_helpers import T0, download, event


def test_score_is_the_sum_of_the_rules(app, make_lead, add_rows):
    lead_id = make_lead("ada@example.com")
    add_rows(
        download(lead_id, T0),
        event("clicked", T0, lead_id),
        event("clicked", T0, lead_id),
        event("unsubscribed", T0, lead_id),
    )
    with app.app_context(), db.new_session() as s:
        lead = s.get(Lead, lead_id)
        result = scoring.score_lead(s, lead, T0)
        s.commit()
    assert result.total == 10 + 5 + 3 + 3
    assert [(r.kind, r.count, r.points) for r in result.rules] == [
        ("submitted", 1, 10.0),
        ("clicked", 2, 6.0),
        ("downloaded", 1, 5.0),
    ]
    with db.new_session(app) as s:
        assert s.get(Lead, lead_id).score == 21


def test_scores_decay_with_a_half_life(app, make_lead, add_rows):
    app.config["SCORE_HALF_LIFE_DAYS"] = 10
    lead_id = make_lead("ada@example.com", at=T0)
    add_rows(event("clicked", T0 + timedelta(days=10), lead_id))
    with app.app_context(), db.new_session() as s:
        result = scoring.breakdown(lead_activities(s, lead_id), T0 + timedelta(days=20))
    # submitted 20 days ago: 10 × ¼; clicked 10 days ago: 3 × ½
    assert result.total == round(2.5 + 1.5)
    assert {r.kind: r.points for r in result.rules} == {"submitted": 2.5, "clicked": 1.5}


def test_apply_event_updates_the_stored_score(app, make_lead):
    lead_id = make_lead("ada@example.com")
    with app.app_context(), db.new_session() as s:
        lead = s.get(Lead, lead_id)
        s.add(event("converted", T0, lead_id, value=99))
        assert hooks.on_event(s, lead, "converted", T0, {"value": 99}) == []  # no WEBHOOKS
        s.commit()
        assert lead.score == 60


def test_submission_tags_from_the_offer_and_field_values(app, make_lead):
    lead_id = make_lead("ada@example.com")
    with app.app_context(), db.new_session() as s:
        offer = catalog.offers()["playbook"]
        lead = s.get(Lead, lead_id)
        assert tags.submission_tags(offer, {"role": "Marketing", "company": "Acme"}) == [
            "ebook",
            "playbook",
            "role:marketing",
        ]
        hooks.on_submission(s, lead, offer, {"role": "founder", "company_size": "11-50"}, True, T0)
        hooks.on_submission(s, lead, offer, {"role": "founder"}, False, T0)  # idempotent
        s.commit()
        assert tags.lead_tags(s, lead_id) == [
            "company_size:11-50",
            "ebook",
            "playbook",
            "role:founder",
        ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Customer", "customer"), ("  big account ", "big-account"), ("a/b\\c", "a-b-c"), ("!!", "")],
)
def test_tags_are_normalised(raw, expected):
    assert tags.normalize_tag(raw) == expected


def test_should_stop_on_a_tag_or_a_score(app, make_lead):
    lead_id = make_lead("ada@example.com", score=40)
    with app.app_context(), db.new_session() as s:
        lead = s.get(Lead, lead_id)
        stop = {"tags": ["Customer"], "score_at_least": 50}
        assert scoring.should_stop(lead, stop) is None
        assert scoring.should_stop(lead, {}) is None
        assert scoring.should_stop(lead, None) is None
        tags.add_tag(s, lead, "customer", "api", T0)
        s.flush()
        assert scoring.should_stop(lead, stop) == "tag:customer"
        lead.score = 55
        assert scoring.should_stop(lead, {"score_at_least": 50}) == "score:55"

        class Series:  # the drip side may pass its Series instead of a dict
            stop_tags = ("vip",)
            stop_score = 60

        assert scoring.should_stop(lead, Series()) is None
        Series.stop_score = 55
        assert scoring.should_stop(lead, Series()) == "score:55"


def test_rescore_command_applies_new_rules(app, runner, make_lead):
    lead_id = make_lead("ada@example.com", score=0)
    app.config["SCORING"] = {"submitted": 7}
    result = runner.invoke(args=["admin", "rescore"])
    assert result.exit_code == 0 and "1 score(s) changed" in result.output
    with db.new_session(app) as s:
        assert s.get(Lead, lead_id).score == 7
