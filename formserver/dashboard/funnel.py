"""The funnel figures of an offer over a date range, counted in SQL from the tables of record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from formserver.core.models import Download, Event, Send, Submission
from formserver.core.urls import host

MAX_DAYS = 3 * 366
# Dates outside [EARLIEST, today + a year] are moved inside: nothing of ours is older, nothing
# is dated ahead, and 9999-12-31 has no next day to end a range with.
EARLIEST = date(1970, 1, 1)
AHEAD = timedelta(days=366)
NONE_LABEL = "(none)"


@dataclass(frozen=True)
class DateRange:
    """Whole UTC days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def from_args(cls, args: Mapping[str, str], today: date, days: int = 30) -> DateRange:
        """The range in ?start=&end= (ISO dates), else the last ``days`` days; never an error."""
        latest = today + AHEAD

        def parse(key: str) -> date | None:
            try:
                day = date.fromisoformat(args.get(key, "").strip())
            except ValueError:
                return None
            return min(max(day, EARLIEST), latest)

        end = parse("end") or today
        start = parse("start") or end - timedelta(days=days - 1)
        if start > end:
            start, end = end, start
        start = max(start, end - timedelta(days=MAX_DAYS - 1))
        return cls(start, end)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, UTC)

    @property
    def end_at(self) -> datetime:
        """The first instant after the range."""
        return datetime.combine(self.end + timedelta(days=1), time.min, UTC)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def query_args(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Stage:
    """One step of the funnel: its count and its rate against the stage it follows."""

    key: str
    label: str
    count: int
    base: str = ""
    base_count: int = 0

    @property
    def rate(self) -> float | None:
        return self.count / self.base_count if self.base and self.base_count else None


def percent(rate: float | None) -> str:
    """A rate for people: "12.5%", or an en dash when there is nothing to divide by."""
    return "–" if rate is None else f"{rate:.1%}"


def _within(column: Any, rng: DateRange) -> ColumnElement[bool]:
    return and_(column >= rng.start_at, column < rng.end_at)


def _count(s: Session, model: Any, *conditions: Any) -> int:
    return s.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _events(s: Session, kind: str, offer_id: str, rng: DateRange, lead_level: bool) -> int:
    """Events of ``kind`` for the offer; lead-level events without an offer count for the
    offers that lead submitted (an unsubscribe is the lead's, not one offer's)."""
    of_offer: ColumnElement[bool] = Event.offer_id == offer_id
    if lead_level:
        leads = select(Submission.lead_id).where(Submission.offer_id == offer_id)
        of_offer = or_(of_offer, and_(Event.offer_id == "", Event.lead_id.in_(leads)))
    return _count(s, Event, Event.kind == kind, of_offer, _within(Event.created_at, rng))


def funnel(s: Session, offer_id: str, rng: DateRange) -> list[Stage]:
    """Page views → submissions → confirmations, downloads → emails → clicks, unsubscribes."""
    views = _events(s, "pageview", offer_id, rng, lead_level=False)
    subs = _count(
        s, Submission, Submission.offer_id == offer_id, _within(Submission.created_at, rng)
    )
    confirmed = _events(s, "confirmed", offer_id, rng, lead_level=True)
    downloads = _count(
        s, Download, Download.offer_id == offer_id, _within(Download.created_at, rng)
    )
    sent = _count(
        s, Send, Send.offer_id == offer_id, Send.status == "sent", _within(Send.sent_at, rng)
    )
    clicks = _events(s, "clicked", offer_id, rng, lead_level=False)
    unsubs = _events(s, "unsubscribed", offer_id, rng, lead_level=True)
    bounces = _events(s, "bounced", offer_id, rng, lead_level=True)
    return [
        Stage("views", "Page views", views),
        Stage("submissions", "Submissions", subs, "page views", views),
        Stage("confirmations", "Confirmations", confirmed, "submissions", subs),
        Stage("downloads", "Downloads", downloads, "submissions", subs),
        Stage("sent", "Emails sent", sent),
        Stage("clicks", "Clicks", clicks, "emails sent", sent),
        Stage("unsubscribes", "Unsubscribes", unsubs, "emails sent", sent),
        Stage("bounces", "Bounces", bounces, "emails sent", sent),
    ]


def _day(s: Session, column: Any) -> Any:
    if s.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column)  # SQLite keeps UTC text: the date is its first ten characters


def submissions_per_day(s: Session, offer_id: str, rng: DateRange) -> list[tuple[date, int]]:
    """(day, submissions) for every day of the range, zeros included."""
    day = _day(s, Submission.created_at)
    rows = s.execute(
        select(day, func.count())
        .where(Submission.offer_id == offer_id, _within(Submission.created_at, rng))
        .group_by(day)
    )
    counts = {str(d): n for d, n in rows}
    return [(d, counts.get(d.isoformat(), 0)) for d in rng.days()]


@dataclass(frozen=True)
class SourceRow:
    """Views and submissions from one source (a UTM value or a referring host)."""

    label: str
    views: int
    submissions: int

    @property
    def rate(self) -> float | None:
        return self.submissions / self.views if self.views else None


DIMENSIONS = {
    "utm_source": "Source",
    "utm_medium": "Medium",
    "utm_campaign": "Campaign",
    "referrer": "Referrer",
}


def breakdown(s: Session, offer_id: str, rng: DateRange, dimension: str) -> list[SourceRow]:
    """Views and submissions per value of ``dimension`` (a DIMENSIONS key), most first."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    view_key = "referrer_host" if dimension == "referrer" else dimension
    label = Event.data[view_key].as_string()
    views: Counter[str] = Counter()
    for value, n in s.execute(
        select(label, func.count())
        .where(Event.kind == "pageview", Event.offer_id == offer_id)
        .where(_within(Event.created_at, rng))
        .group_by(label)
    ):
        views[(value or "").lower() if dimension == "referrer" else value or ""] += n
    column = getattr(Submission, dimension)
    subs: Counter[str] = Counter()
    for value, n in s.execute(
        select(column, func.count())
        .where(Submission.offer_id == offer_id, _within(Submission.created_at, rng))
        .group_by(column)
    ):
        key = value or ""
        if dimension == "referrer":
            # A referrer with no host (an app's own scheme) is shown as it was sent.
            key = host(key) or key.lower()
        subs[key] += n
    rows = [SourceRow(k or NONE_LABEL, views[k], subs[k]) for k in set(views) | set(subs)]
    return sorted(rows, key=lambda r: (-r.submissions, -r.views, r.label))


@dataclass(frozen=True)
class OfferTotals:
    """The headline figures of one offer in the offers table."""

    offer_id: str
    views: int = 0
    submissions: int = 0
    downloads: int = 0

    @property
    def rate(self) -> float | None:
        return self.submissions / self.views if self.views else None


def offer_totals(s: Session, offer_ids: list[str], rng: DateRange) -> list[OfferTotals]:
    """Views, submissions and downloads per offer (known offers plus any seen in the data)."""

    def grouped(model: Any, column: Any, *where: Any) -> dict[str, int]:
        stmt = select(model.offer_id, func.count()).where(_within(column, rng), *where)
        return dict(s.execute(stmt.group_by(model.offer_id)).all())

    views = grouped(Event, Event.created_at, Event.kind == "pageview")
    subs = grouped(Submission, Submission.created_at)
    downloads = grouped(Download, Download.created_at)
    ids = list(dict.fromkeys([*offer_ids, *sorted(set(subs) | set(views) | set(downloads))]))
    return [OfferTotals(i, views.get(i, 0), subs.get(i, 0), downloads.get(i, 0)) for i in ids if i]
