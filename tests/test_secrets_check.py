"""Production refuses a missing, default or short SECRET_KEY; development and `make build` run."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from formserver import create_app
from formserver.core import secrets_check
from formserver.core.secrets_check import InsecureSecretKey

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
STRONG = secrets.token_urlsafe(48)


def production(tmp_path: Path, **settings: object) -> dict:
    """A production configuration (neither DEV nor TESTING) on throwaway files."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
        **settings,
    }


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "SECRET_KEY is not set"),
        ("", "SECRET_KEY is not set"),
        ("dev", "well-known default ('dev')"),
        ("ChangeMe", "well-known default"),
        ("a-31-byte-key-that-is-too-short", "31 bytes long; production needs at least 32"),
        ('<64 random characters: python3 -c "import secrets">', "placeholder"),
        ("ab" * 20, "too few characters"),
    ],
)
def test_a_server_refuses_to_start_with_a_weak_key(tmp_path: Path, key, reason: str) -> None:
    with pytest.raises(InsecureSecretKey) as refused:
        create_app(production(tmp_path, SECRET_KEY=key))
    message = str(refused.value)
    assert reason in message and "set FORMSERVER_SECRET_KEY" in message
    assert "\n" not in message
    assert not (tmp_path / "prod.db").exists()  # refused before touching anything


def test_a_server_starts_with_a_strong_key_and_uses_it(tmp_path: Path) -> None:
    app = create_app(production(tmp_path, SECRET_KEY=STRONG))
    assert app.config["SECRET_KEY"] == STRONG
    assert app.test_client().get("/healthz").status_code == 200


def test_development_keeps_one_key_in_the_instance_folder(tmp_path: Path) -> None:
    apps = [Flask("first"), Flask("second")]
    for app in apps:
        app.config.update(DEV=True, SECRET_KEY=None)
        secrets_check.configure(app, tmp_path)
    kept = (tmp_path / "secret_key").read_text().strip()
    assert apps[0].secret_key == apps[1].secret_key == kept and len(kept) >= 32


def flask(tmp_path: Path, *args: str, key: str | None = None, timeout: int = 60):
    """Run ``flask --app formserver ARGS`` as on a fresh machine: no FORMSERVER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVER_")}
    env["FORMSERVER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["FORMSERVER_QUEUE_URL"] = f"sqlite:///{tmp_path / 'cli-queue.db'}"
    if key is not None:
        env["FORMSERVER_SECRET_KEY"] = key
    command = [FLASK, "--app", "formserver", *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_make_builds_drip_lint_needs_no_settings(tmp_path: Path) -> None:
    result = flask(tmp_path, "drip", "lint")
    assert result.returncode == 0, result.stderr
    assert "0 errors" in result.stdout


@pytest.mark.parametrize("command", [["worker"], ["drip", "tick"]])
def test_commands_that_sign_links_refuse_to_run_without_a_key(tmp_path: Path, command) -> None:
    result = flask(tmp_path, *command, timeout=30)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: SECRET_KEY is not set: set FORMSERVER_")


def test_the_same_commands_run_with_a_strong_key(tmp_path: Path) -> None:
    result = flask(tmp_path, "drip", "tick", "--now", "2026-12-01T10:00", key=STRONG)
    assert result.returncode == 0, result.stderr
    assert "scheduled=0" in result.stdout
