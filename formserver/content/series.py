"""A drip series: a folder of Markdown emails plus series.toml, read from disk and checked."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from formserver.content.errors import SeriesError

STEP_FILE = re.compile(r"^(\d{2,3})-[a-z0-9-]+\.md$")
DELAY = re.compile(r"^(\d+)\s*(minute|hour|day|week)s?$")
UNITS = {"minute": "minutes", "hour": "hours", "day": "days", "week": "weeks"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HEADER = re.compile(r"^([A-Za-z][A-Za-z_-]*):\s*(.*)$")


@dataclass(frozen=True)
class Email:
    """One email template: its header values and Markdown/Jinja body, with source lines."""

    path: Path
    subject: str
    preheader: str
    body: str
    body_line: int  # line number in the file where the body starts
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Step(Email):
    """A numbered step; step 0 is the transactional asset email, the rest are marketing."""

    number: int = 0
    delay: timedelta = timedelta(0)

    @property
    def marketing(self) -> bool:
        return self.number > 0


@dataclass(frozen=True)
class Window:
    """When marketing email may arrive, in the lead's own time zone."""

    days: frozenset[int]  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True)
class Series:
    name: str
    path: Path
    title: str
    from_name: str
    from_email: str
    reply_to: str
    time_zone: str
    reenrol: bool
    window: Window
    stop_tags: tuple[str, ...]
    stop_score: int | None
    steps: tuple[Step, ...]
    confirm: Email | None

    def step(self, number: int) -> Step | None:
        return next((s for s in self.steps if s.number == number), None)

    def next_step(self, after: int) -> Step | None:
        """The first step numbered above ``after``: added steps are found, removed skipped."""
        return next((s for s in self.steps if s.number > after), None)


def parse_delay(text: str) -> timedelta:
    """``0``, ``2 days``, ``1 week``, ``36 hours``, ``90 minutes``."""
    text = text.strip().lower()
    if text == "0":
        return timedelta(0)
    match = DELAY.match(text)
    if not match:
        raise ValueError(f"delay {text!r} is not like '0', '2 days', '1 week', '36 hours'")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def read_email(path: Path) -> Email:
    """Parse ``Key: value`` header lines, a blank line, then the body."""
    lines = path.read_text(encoding="utf-8").split("\n")
    headers: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            break
        match = HEADER.match(line)
        if not match:
            raise SeriesError(path, f"header line must be 'Key: value', got {line!r}", number)
        headers[match.group(1).lower()] = match.group(2).strip()
    else:
        number = len(lines)
    if not headers.get("subject"):
        raise SeriesError(path, "missing Subject header", 1)
    body = "\n".join(lines[number:])
    return Email(path, headers["subject"], headers.get("preheader", ""), body, number + 1, headers)


def _step(path: Path) -> Step:
    email = read_email(path)
    number = int(STEP_FILE.match(path.name).group(1))  # type: ignore[union-attr]
    if "delay" not in email.headers:
        raise SeriesError(path, "missing Delay header", 1)
    try:
        delay = parse_delay(email.headers["delay"])
    except ValueError as e:
        line = 1 + list(email.headers).index("delay")
        raise SeriesError(path, str(e), line) from e
    return Step(**email.__dict__, number=number, delay=delay)


def _window(conf: dict, path: Path) -> Window:
    try:
        days = frozenset(DAYS.index(d.lower()[:3]) for d in conf.get("days", DAYS[:5]))
        start = time.fromisoformat(conf.get("start", "09:00"))
        end = time.fromisoformat(conf.get("end", "17:30"))
    except (ValueError, AttributeError) as e:
        raise SeriesError(path, f"[window] is not valid: {e}") from e
    if not days or start >= end:
        raise SeriesError(path, "[window] needs at least one day and start before end")
    return Window(days, start, end)


def load_series(emails_dir: Path, name: str) -> Series:
    """Read and check one series folder; raise SeriesError naming the file and line."""
    folder = emails_dir / name
    conf_path = folder / "series.toml"
    if not conf_path.is_file():
        raise SeriesError(conf_path, "no such series")
    try:
        conf = tomllib.loads(conf_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise SeriesError(conf_path, f"invalid TOML: {e}") from e
    if not conf.get("from_email"):
        raise SeriesError(conf_path, "from_email is required")
    zone = conf.get("time_zone", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise SeriesError(conf_path, f"unknown time_zone {zone!r}") from e
    steps = sorted(
        (_step(p) for p in folder.glob("*.md") if STEP_FILE.match(p.name)), key=lambda s: s.number
    )
    numbers = [s.number for s in steps]
    duplicate = next((n for n in numbers if numbers.count(n) > 1), None)
    if duplicate is not None:
        raise SeriesError(folder, f"two files are step {duplicate}")
    confirm = folder / "confirm.md"
    stop = conf.get("stop", {})
    return Series(
        name=name,
        path=folder,
        title=conf.get("title", name),
        from_name=conf.get("from_name", ""),
        from_email=conf["from_email"],
        reply_to=conf.get("reply_to", ""),
        time_zone=zone,
        reenrol=bool(conf.get("reenrol", False)),
        window=_window(conf.get("window", {}), conf_path),
        stop_tags=tuple(stop.get("tags", ())),
        stop_score=stop.get("score_at_least"),
        steps=tuple(steps),
        confirm=read_email(confirm) if confirm.is_file() else None,
    )


_cache: dict[tuple[str, str], tuple[tuple, Series]] = {}


def _stamp(folder: Path) -> tuple:
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*")))


def get_series(emails_dir: Path, name: str) -> Series:
    """The series as it is on disk now (cached until a file in its folder changes)."""
    folder = emails_dir / name
    key = (str(emails_dir), name)
    stamp = _stamp(folder) if folder.is_dir() else ()
    cached = _cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    series = load_series(emails_dir, name)
    _cache[key] = (stamp, series)
    return series
