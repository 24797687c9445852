"""When a step goes out: its delay, then the next opening of the send window in the lead's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from formserver.content.series import Series, Step, Window


def zone_for(lead_zone: str, series: Series) -> ZoneInfo:
    """The lead's own zone (from their browser), else the series default."""
    for name in (lead_zone, series.time_zone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def next_opening(when: datetime, window: Window, zone: ZoneInfo) -> datetime:
    """``when`` if it falls inside the window, else the window's next start; DST-correct."""
    local = when.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in window.days:
            continue
        # Wall-clock times: fold=0 picks the first of a repeated hour; a skipped hour
        # (spring forward) maps to the same instant an hour later on the clock.
        start = datetime.combine(day, window.start, tzinfo=zone)
        end = datetime.combine(day, window.end, tzinfo=zone)
        if offset == 0 and start <= local < end:
            return when.astimezone(UTC)
        if local < start:
            return start.astimezone(UTC)
    raise ValueError("window has no open day")  # unreachable: load_series requires one


def due_at(base: datetime, step: Step, series: Series, lead_zone: str) -> datetime:
    """Due time of ``step`` counted from ``base``; marketing steps wait for the window.

    Whole-day delays keep the lead's wall-clock time across a DST change (a week after
    Monday 09:00 is Monday 09:00); hour and minute delays are elapsed time.
    """
    zone = zone_for(lead_zone, series)
    if step.delay % timedelta(days=1) == timedelta(0):
        when = base.astimezone(zone) + step.delay  # aware arithmetic is wall-clock
    else:
        when = base + step.delay
    if not step.marketing:
        return when.astimezone(UTC)
    return next_opening(when, series.window, zone)
