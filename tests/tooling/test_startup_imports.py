"""Start-up stays cheap: a command imports only what it needs (a measured list, not a timer).

``python -X importtime`` lists every module a real ``flask --app formserver ...`` process imports.
Alembic (migrations), WTForms and email-validator (the forms), css_inline and Markdown (mail
rendering), dkimpy (signing), httpx (webhooks), aiosmtpd (the dev sink), zxcvbn (passwords) and
Pelican (the site build) cost about 0.6 s together, and none of them is needed to start.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from formserver import PROJECT_ROOT

FLASK = str(Path(sys.executable).parent / "flask")
HEAVY = (
    "alembic",
    "wtforms",
    "email_validator",
    "css_inline",
    "dkim",
    "httpx",
    "aiosmtpd",
    "zxcvbn",
    "pelican",
)
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.M)


def imported_by(argv: list[str], env: dict[str, str]) -> set[str]:
    """Top-level names of every module the command ``argv`` (after ``python``) imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {name.split(".")[0] for name in IMPORTED.findall(result.stderr)}


def flask(*args: str) -> list[str]:
    return [FLASK, "--app", "formserver", *args]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "FORMSERVER_DATABASE_URL": f"sqlite:///{tmp_path / 'lodestone.db'}",
        "FORMSERVER_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
        "FORMSERVER_SECRET_KEY": secrets.token_urlsafe(48),
    }


def test_a_migrated_database_starts_without_alembic_and_the_rest(env: dict[str, str]) -> None:
    first = imported_by(flask("routes"), env)  # a new database: this start migrates it
    assert "alembic" in first
    for command in (["--help"], ["routes"]):
        heavy = sorted(set(HEAVY) & imported_by(flask(*command), env))
        assert heavy == [], f"flask --app formserver {' '.join(command)} imported {heavy}"


def test_drip_lint_reads_files_without_the_app_database_or_queue(env: dict[str, str]) -> None:
    """What ``make build`` runs after Pelican, and marketers run in a loop."""
    env = env | {"FORMSERVER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    modules = imported_by(flask("drip", "lint"), env)
    heavy = sorted({*HEAVY, "sqlalchemy", "huey", "redis", "flask_wtf", "psycopg"} & modules)
    assert heavy == [], f"drip lint imported {heavy}"


def test_the_site_build_imports_no_form_server(tmp_path: Path) -> None:
    """The Pelican plugin reads offers through the content layer alone."""
    argv = ["-m", "pelican", "content", "-s", "pelicanconf.py", "-o", str(tmp_path / "out")]
    modules = imported_by([*argv, "--fatal", "errors", "--quiet"], dict(os.environ))
    assert "formserver" in modules
    assert sorted({"flask", "sqlalchemy", "werkzeug", "huey", "wtforms"} & modules) == []
