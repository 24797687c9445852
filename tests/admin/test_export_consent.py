"""Both CSV exports carry the consent record: wording version, time, stored IP, confirmation."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

ORIGIN = {"Origin": "https://www.lodestone.test"}
VISITOR_IP = "203.0.113.77"
STORED_IP = "203.0.113.0"  # IP_MODE "anonymize" (the default) keeps the /24 only


@pytest.fixture
def app_config(app_config: dict, smtp) -> dict:
    _, port = smtp
    return app_config | {"MAIL_PORT": port}


def _submit(client, email: str) -> None:
    response = client.post(
        "/forms/checklist",
        data={"email": email, "first_name": "Ada", "consent": "yes"},
        headers=ORIGIN,
        environ_base={"REMOTE_ADDR": VISITOR_IP},
    )
    assert response.status_code == 303, response.text


def _tick(runner) -> None:
    when = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    result = runner.invoke(args=["drip", "tick", "--now", when])
    assert result.exit_code == 0, result.output


def _moment(cell: str) -> datetime:
    return datetime.fromisoformat(cell)


@pytest.fixture
def consented(client, runner, smtp) -> tuple[datetime, datetime]:
    """Ada submits the double opt-in checklist and confirms by the emailed link; Bob never does."""
    sink, _ = smtp
    before = datetime.now(UTC).replace(microsecond=0)
    _submit(client, "ada@example.com")
    _submit(client, "bob@example.com")
    _tick(runner)
    [confirm] = sink.to("ada@example.com")
    assert len(sink.to("bob@example.com")) == 1
    html = confirm.get_body(("html",)).get_content()
    url = re.search(r'href="([^"]+/confirm/[^"]+)"', html)[1]
    path = re.sub(r"^https?://[^/]+", "", url)
    assert client.post(path).status_code == 200
    after = datetime.now(UTC) + timedelta(seconds=1)
    return before, after


def _check(rows: list[dict[str, str]], window: tuple[datetime, datetime]) -> None:
    before, after = window
    ada = next(r for r in rows if r["email"] == "ada@example.com")
    bob = next(r for r in rows if r["email"] == "bob@example.com")
    for row in (ada, bob):
        assert row["consent_version"] == "2026-01"
        assert before <= _moment(row["consent_given_at"]) <= after
        assert row["consent_ip"] == STORED_IP
    assert before <= _moment(ada["consent_confirmed_at"]) <= after
    assert before <= _moment(ada["confirmed_at"]) <= after
    assert bob["consent_confirmed_at"] == "" and bob["confirmed_at"] == ""


def test_dashboard_csv_carries_the_consent_record(admin_client, consented):
    response = admin_client.get("/admin/leads/export.csv")
    assert response.status_code == 200
    _check(list(csv.DictReader(io.StringIO(response.get_data(as_text=True)))), consented)


def test_cli_export_carries_the_consent_record(runner, consented):
    result = runner.invoke(args=["leads", "export"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["email"] for r in rows] == ["ada@example.com", "bob@example.com"]
    _check(rows, consented)


def test_both_exports_share_one_header(admin_client, runner, consented):
    dashboard = admin_client.get("/admin/leads/export.csv").get_data(as_text=True)
    cli = runner.invoke(args=["leads", "export"]).output
    assert dashboard.splitlines()[0] == cli.splitlines()[0]
