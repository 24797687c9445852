"""Series files are read strictly; due times respect delays, windows, weekends and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from formserver.content.errors import SeriesError
from formserver.content.series import get_series, load_series, parse_delay
from formserver.mail.schedule import due_at
from tests.drip.conftest import SERIES_TOML, STEPS


def make_series(tmp_path: Path, files: dict[str, str], toml: str = SERIES_TOML) -> Path:
    folder = tmp_path / "s"
    folder.mkdir(exist_ok=True)
    (folder / "series.toml").write_text(toml)
    for name, text in files.items():
        (folder / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    "text,expected",
    [
        ("0", timedelta(0)),
        ("2 days", timedelta(days=2)),
        ("1 week", timedelta(weeks=1)),
        ("36 hours", timedelta(hours=36)),
        ("90 minutes", timedelta(minutes=90)),
    ],
)
def test_delays(text: str, expected: timedelta) -> None:
    assert parse_delay(text) == expected


@pytest.mark.parametrize("bad", ["-1 day", "two days", "3 fortnights", "", "1.5 days"])
def test_bad_delays_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_delay(bad)


def test_series_is_read_in_step_order(tmp_path: Path) -> None:
    series = load_series(make_series(tmp_path, STEPS), "s")
    assert [s.number for s in series.steps] == [0, 1, 2]
    assert series.steps[1].subject == 'Tip one for {{ lead.first_name or "you" }}'
    assert series.steps[1].delay == timedelta(days=2) and series.steps[1].marketing
    assert not series.steps[0].marketing
    assert series.from_email == "maya@lodestone.test" and series.stop_tags == ("customer",)


@pytest.mark.parametrize(
    "name,text,message,line",
    [
        ("01-a.md", "Delay: 1 day\n\nNo subject.\n", "missing Subject header", 1),
        ("01-a.md", "Subject: Hi\nDelay: soon\n\nBody\n", "delay 'soon'", 2),
        ("01-a.md", "Subject: Hi\n\nBody\n", "missing Delay header", 1),
        ("01-a.md", "Subject: Hi\nthis is not a header\n\nBody\n", "header line", 2),
    ],
)
def test_broken_step_files_name_file_and_line(tmp_path, name, text, message, line) -> None:
    root = make_series(tmp_path, {name: text})
    with pytest.raises(SeriesError) as e:
        load_series(root, "s")
    assert message in str(e.value) and e.value.line == line and e.value.path.name == name


def test_duplicate_step_numbers_are_refused(tmp_path: Path) -> None:
    root = make_series(tmp_path, {"01-a.md": STEPS["01-tip.md"], "01-b.md": STEPS["01-tip.md"]})
    with pytest.raises(SeriesError, match="two files are step 1"):
        load_series(root, "s")


def test_edits_are_seen_at_once(tmp_path: Path) -> None:
    root = make_series(tmp_path, STEPS)
    assert get_series(root, "s").steps[2].subject == "Proof"
    path = root / "s" / "02-proof.md"
    path.write_text(path.read_text().replace("Subject: Proof", "Subject: Better proof"))
    assert get_series(root, "s").steps[2].subject == "Better proof"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_step_due_at_the_weekend_waits_for_monday_morning(tmp_path: Path) -> None:
    series = load_series(make_series(tmp_path, STEPS), "s")
    # Thursday 15:00 UTC + 2 days = Saturday: Monday 09:00 London (GMT in November).
    assert due_at(at(2026, 11, 19, 15), series.step(1), series, "") == at(2026, 11, 23, 9)
    # The same moment for a lead in New York: Monday 09:00 EST = 14:00 UTC.
    assert due_at(at(2026, 11, 19, 15), series.step(1), series, "America/New_York") == at(
        2026, 11, 23, 14
    )
    # In Tokyo, Saturday 00:00 JST is before the window: still Monday 09:00 JST.
    assert due_at(at(2026, 11, 19, 15), series.step(1), series, "Asia/Tokyo") == at(2026, 11, 23, 0)


def test_inside_the_window_is_kept_and_after_hours_moves_to_the_next_day(tmp_path: Path) -> None:
    series = load_series(make_series(tmp_path, STEPS), "s")
    assert due_at(at(2026, 11, 21, 11), series.step(1), series, "") == at(2026, 11, 23, 11)
    assert due_at(at(2026, 11, 21, 18), series.step(1), series, "") == at(2026, 11, 24, 9)


def test_daylight_saving_change_keeps_local_nine_oclock(tmp_path: Path) -> None:
    series = load_series(make_series(tmp_path, STEPS), "s")
    # London moves to BST on Sunday 29 March 2026: Monday 09:00 local is 08:00 UTC.
    assert due_at(at(2026, 3, 26, 20), series.step(1), series, "") == at(2026, 3, 30, 8)
    # New York moved on 8 March: 09:00 EDT = 13:00 UTC.
    assert due_at(at(2026, 3, 12, 20), series.step(1), series, "America/New_York") == at(
        2026, 3, 16, 13
    )


def test_asset_email_ignores_the_window(tmp_path: Path) -> None:
    series = load_series(make_series(tmp_path, STEPS), "s")
    assert due_at(at(2026, 11, 21, 23), series.step(0), series, "") == at(2026, 11, 21, 23)


def test_unknown_lead_zone_falls_back_to_the_series_zone(tmp_path: Path) -> None:
    series = load_series(make_series(tmp_path, STEPS), "s")
    assert due_at(at(2026, 11, 19, 15), series.step(1), series, "Mars/Olympus") == at(
        2026, 11, 23, 9
    )
