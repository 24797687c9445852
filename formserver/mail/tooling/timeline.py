"""When each step of a series would go out for a lead who starts now, in their zone and in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from formserver.content.series import Series
from formserver.mail.schedule import due_at, zone_for


@dataclass(frozen=True)
class Row:
    step: int
    path: Path
    subject: str
    local: datetime
    utc: datetime


def timeline(series: Series, start: datetime, zone: str = "") -> list[Row]:
    """Chain each step's due time from the previous one, windows, weekends and DST included."""
    tz = zone_for(zone, series)
    rows, when = [], start.astimezone(UTC)
    for step in series.steps:
        when = due_at(when, step, series, zone)
        rows.append(Row(step.number, step.path, step.subject, when.astimezone(tz), when))
    return rows


def table(rows: list[Row], subjects: dict[Path, str] | None = None) -> str:
    """A plain-text table for the terminal; ``subjects`` as rendered for a sample lead."""
    lines = [f"{'step':>4}  {'local time':25s}  {'UTC':17s}  subject"]
    for r in rows:
        local = r.local.strftime("%a %Y-%m-%d %H:%M %Z")
        subject = (subjects or {}).get(r.path, r.subject)
        lines.append(f"{r.step:>4}  {local:25s}  {r.utc:%Y-%m-%d %H:%M}  {subject}")
    return "\n".join(lines)
