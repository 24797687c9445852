"""Drip tests: fixture offers and a richer series, the real app, a real SMTP sink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.capture.conftest import DOI_LANDING, ORIGIN
from tests.site.conftest import write_site

SERIES_TOML = """title = "Guide series"
from_name = "Maya"
from_email = "maya@lodestone.test"
reply_to = "reply@lodestone.test"
time_zone = "Europe/London"

[window]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:00"

[stop]
tags = ["customer"]
"""
STEPS = {
    "00-asset.md": "Subject: Your {{ offer.title }}\nDelay: 0\nPreheader: Your file\n\n"
    'Hi {{ lead.first_name or "there" }}, [download]({{ download_url }}).\n',
    "01-tip.md": 'Subject: Tip one for {{ lead.first_name or "you" }}\nDelay: 2 days\n\n'
    "A **tip**. Read [the article](https://www.lodestone.test/blog/a/).\n",
    "02-proof.md": 'Subject: Proof\nDelay: 1 week\n\nSome proof for {{ lead.company or "you" }}.\n',
}
CONFIRM = "Subject: Confirm please\n\n[Confirm]({{ confirm_url }})\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = write_site(tmp_path / "site")
    (root / "content" / "landing" / "double.md").write_text(DOI_LANDING)
    series = root / "content" / "emails" / "guide-series"
    (series / "series.toml").write_text(SERIES_TOML)
    (series / "00-guide.md").unlink()
    for name, text in STEPS.items():
        (series / name).write_text(text)
    (series / "confirm.md").write_text(CONFIRM)
    return root


@pytest.fixture
def app_config(app_config: dict, site: Path, smtp) -> dict:
    _, port = smtp
    return app_config | {
        "CONTENT_PATH": str(site / "content"),
        "ASSETS_PATH": str(site / "assets"),
        "MAIL_PORT": port,
        "SEND_RETRY_BASE": 60,
    }


def submit(client, offer: str = "guide", **fields):
    values = {"first_name": "Ada", "email": "ada@example.com", "consent": "yes"} | fields
    return client.post(
        f"/forms/{offer}",
        data={k: v for k, v in values.items() if v is not None},
        headers={"Origin": ORIGIN},
    )


def tick(runner, when: str) -> str:
    result = runner.invoke(args=["drip", "tick", "--now", when])
    assert result.exit_code == 0, result.output
    return result.output


def local_path(url: str) -> str:
    return url.removeprefix("https://forms.lodestone.test")


def next_due(app):
    """The earliest moment anything is due: a queued send or an enrolment's next step."""
    from sqlalchemy import func, select

    from formserver.core import db
    from formserver.core.models import Enrolment, Send

    with app.app_context():
        s = db.session()
        times = [
            s.scalar(select(func.min(Send.due_at)).where(Send.status == "queued")),
            s.scalar(select(func.min(Enrolment.next_due_at)).where(Enrolment.status == "active")),
        ]
    times = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in times if t is not None]
    return min(times) if times else None


def advance(app, runner, days: float) -> None:
    """Simulate ``days`` from now with ``drip tick --now`` at each moment something is due."""
    until = datetime.now(UTC) + timedelta(days=days)
    for _ in range(100):
        due = next_due(app)
        if due is None or due > until:
            return
        tick(runner, due.isoformat())
    raise AssertionError("the schedule never settles")


def enrol_at(app, when: datetime, offer_id: str = "guide", **fields: str) -> int:
    """Capture a submission at a chosen moment through the real storage code; return lead id."""
    from formserver.core import catalog, db
    from formserver.domain import leads

    values = {"email": "ada@example.com", "first_name": "Ada"} | fields
    meta = leads.SubmissionMeta(
        utm={}, referrer="", time_zone=values.pop("tz", ""), user_agent="test", ip=None
    )
    with app.app_context():
        captured = leads.store(db.session(), catalog.offer(offer_id), values, meta, when)
    return captured.lead_id
