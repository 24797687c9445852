"""Health check, CSV export, and the migration command."""

from __future__ import annotations

import csv
import io

from sqlalchemy import inspect

from formserver import create_app
from formserver.core import db
from tests.capture.conftest import post_form


def test_healthz_ok(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_healthz_503_when_the_database_is_down(tmp_path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "AUTO_MIGRATE": False,
            "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1",
            "QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    down = app.test_client().post(
        "/forms/playbook", data={"email": "a@example.com", "first_name": "A", "consent": "yes"}
    )
    assert down.status_code == 503 and down.mimetype == "text/html"
    assert "Error 503" in down.text and "Please try again in a minute." in down.text


def test_db_upgrade_command_creates_the_schema(app_config) -> None:
    app = create_app(app_config | {"AUTO_MIGRATE": False})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "leads" in inspect(db.engine()).get_table_names()


def rows(runner, *args: str) -> list[dict]:
    result = runner.invoke(args=["leads", "export", *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def test_export_streams_csv_with_filters(client, runner) -> None:
    post_form(client, email="one@example.com", company='=HYPERLINK("x")', utm_source="ads")
    post_form(
        client,
        offer="plain",
        email="two@example.com",
        phone="+44 20 7946 0000",
        first_name=None,
        consent=None,
    )
    everything = rows(runner)
    assert [r["email"] for r in everything] == ["one@example.com", "two@example.com"]
    assert everything[0]["company"] == '\'=HYPERLINK("x")'  # formula neutralised
    assert everything[0]["utm_source"] == "ads"
    assert everything[1]["fields"] == "phone=+44 20 7946 0000"
    assert [r["email"] for r in rows(runner, "--offer", "plain")] == ["two@example.com"]
    assert rows(runner, "--since", "2999-01-01") == []
