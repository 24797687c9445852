"""``make build`` is the gate a content writer meets: it refuses a broken drip email."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

STEP = Path("content") / "emails" / "playbook-nurture" / "01-the-first-email.md"


def _make_build(project: Path) -> subprocess.CompletedProcess[str]:
    """``make build`` in a copy of the project, with this venv and its settings pointing there."""
    venv = Path(sys.prefix)  # the venv running the tests
    env = os.environ | {
        "FORMSERVER_CONTENT_PATH": str(project / "content"),
        "FORMSERVER_ASSETS_PATH": str(project / "assets"),
        "FORMSERVER_SITE_OUTPUT_PATH": str(project / "output"),
    }
    # STAMP= : the copy must not reinstall the venv; the real one is already set up.
    return subprocess.run(
        ["make", "build", f"VENV={venv}", "STAMP="],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Makefile", "pelicanconf.py", "requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, project / name)
    for name in ("content", "theme", "plugins", "assets"):
        shutil.copytree(ROOT / name, project / name)
    return project


def test_make_build_builds_the_samples_then_refuses_a_broken_email(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    built = _make_build(project)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (project / "output" / "index.html").is_file()
    assert "0 errors" in built.stdout
    step = project / STEP
    step.write_text(step.read_text().replace("{{ lead.first_name", "{{ lead.shoe_size", 1))
    broken = _make_build(project)
    assert broken.returncode != 0
    assert f"{step}:" in broken.stdout + broken.stderr
    assert "unknown merge field lead.shoe_size" in broken.stdout + broken.stderr
