"""Start-up stays cheap: a command imports only what it needs (a measured list, not a timer).

``python -X importtime`` lists every module a real ``flask --app formserver ...`` process imports.
Alembic (migrations), WTForms and email-validator (the forms), css_inline and Markdown (mail
rendering), dkimpy (signing), httpx (webhooks), aiosmtpd (the dev sink), zxcvbn (passwords) and
Pelican (the site build) cost about 0.6 s together, and none of them is needed to start.
"""

from __future__ import annotations

import os
import re
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


def imported_by(args: list[str], env: dict[str, str]) -> set[str]:
    """Top-level names of every module the command imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", FLASK, "--app", "formserver", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {name.split(".")[0] for name in IMPORTED.findall(result.stderr)}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "FORMSERVER_DATABASE_URL": f"sqlite:///{tmp_path / 'lodestone.db'}",
        "FORMSERVER_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
    }


def test_a_migrated_database_starts_without_alembic_and_the_rest(env: dict[str, str]) -> None:
    first = imported_by(["drip", "lint"], env)  # a new database: this run migrates it
    assert "alembic" in first
    for command in (["drip", "lint"], ["--help"], ["routes"]):
        heavy = sorted(set(HEAVY) & imported_by(command, env))
        assert heavy == [], f"flask --app formserver {' '.join(command)} imported {heavy}"
