"""A broken offer or call to action stops the build with one line naming the file and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.conftest import ROOT, build, write_site


def _break(root: Path, path: str, old: str, new: str) -> None:
    file = root / "content" / path
    file.write_text(file.read_text().replace(old, new))


CASES = {
    "missing asset": (
        "landing/guide.md",
        "Asset: secret-guide.pdf",
        "Asset: gone.pdf",
        "guide.md: asset 'gone.pdf' not found",
    ),
    "unknown series": (
        "landing/guide.md",
        "Series: guide-series",
        "Series: nope",
        "guide.md: unknown series 'nope'",
    ),
    "duplicate offer id": (
        "landing/plain.md",
        "Offer: plain",
        "Offer: guide",
        "duplicate offer id 'guide'",
    ),
    "unknown field": (
        "landing/guide.md",
        "Fields: first_name,",
        "Fields: shoe_size,",
        "guide.md: unknown field 'shoe_size'",
    ),
    "missing required key": (
        "landing/guide.md",
        "Thank_you: Thanks, here it is.\n",
        "",
        "guide.md: missing required key(s): thank_you",
    ),
    "double opt-in without confirm.md": (
        "landing/guide.md",
        "Double_optin: no",
        "Double_optin: yes",
        "needs",
    ),
    "unknown CTA offer": (
        "articles/fixture.md",
        "CTA: guide",
        "CTA: ghost",
        "fixture.md: unknown offer 'ghost' in call to action",
    ),
    "unknown shortcode offer": (
        "articles/fixture.md",
        "[cta:plain]",
        "[cta:phantom]",
        "fixture.md: unknown offer 'phantom' in call to action",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_broken_definitions_stop_the_build(case: str, tmp_path: Path) -> None:
    root = write_site(tmp_path)
    path, old, new, message = CASES[case]
    if case == "double opt-in without confirm.md":
        (root / "content" / "emails" / "guide-series" / "confirm.md").unlink()
    _break(root, path, old, new)
    with pytest.raises(SystemExit) as stopped:
        build(root)
    assert str(stopped.value).startswith("ERROR: ")
    assert message in str(stopped.value)
    assert "\n" not in str(stopped.value)


def _pelican(content: Path, settings: Path, output: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pelican",
            str(content),
            "-s",
            str(settings),
            "-o",
            str(output),
            "--fatal",
            "errors",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_make_build_command_succeeds_on_the_sample_content(tmp_path: Path) -> None:
    result = _pelican(ROOT / "content", ROOT / "pelicanconf.py", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    for page in ("lead-nurturing-playbook", "landing-page-checklist", "privacy", "about"):
        assert (tmp_path / "out" / page / "index.html").is_file()
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_make_build_command_fails_with_one_line_on_a_broken_offer(tmp_path: Path) -> None:
    root = write_site(tmp_path)
    _break(root, "landing/guide.md", "Series: guide-series", "Series: missing-series")
    settings = tmp_path / "settings.py"
    settings.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom pelicanconf import *\n"
        f"LANDING = {{'assets_path': {str(root / 'assets')!r}, "
        f"'emails_path': {str(root / 'content' / 'emails')!r}, "
        f"'landing_path': {str(root / 'content' / 'landing')!r}}}\n"
    )
    result = _pelican(root / "content", settings, tmp_path / "out")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "content/landing/guide.md: unknown series 'missing-series'" in lines[0]
