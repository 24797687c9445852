"""Lead scores: points per kind of activity from the SCORING setting, optionally decaying."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from formserver.core.models import Lead, LeadTag
from formserver.domain.activity import Activity, lead_activities
from formserver.domain.tags import normalize_tag

logger = logging.getLogger(__name__)

DEFAULT_SCORING = {"submitted": 10, "confirmed": 5, "downloaded": 5, "clicked": 3, "converted": 50}


@dataclass(frozen=True)
class Rule:
    """What one kind of activity added to the score."""

    kind: str
    count: int
    points_each: float
    points: float


@dataclass(frozen=True)
class Breakdown:
    """A score and the rules that made it."""

    total: int
    rules: tuple[Rule, ...]
    half_life_days: float | None


def _settings() -> tuple[Mapping[str, float], float | None]:
    cfg = current_app.config
    half_life = cfg.get("SCORE_HALF_LIFE_DAYS")
    return cfg.get("SCORING") or {}, float(half_life) if half_life else None


def _weight(at: datetime, now: datetime, half_life: float | None) -> float:
    if not half_life:
        return 1.0
    age_days = max((now - at).total_seconds(), 0) / 86400
    return 0.5 ** (age_days / half_life)


def breakdown(activities: list[Activity], now: datetime) -> Breakdown:
    """Score a list of activities as of ``now`` with the configured rules."""
    points, half_life = _settings()
    counts: dict[str, int] = {}
    totals: dict[str, float] = {}
    for item in activities:
        each = points.get(item.kind)
        if not each:
            continue
        counts[item.kind] = counts.get(item.kind, 0) + 1
        totals[item.kind] = totals.get(item.kind, 0.0) + each * _weight(item.at, now, half_life)
    rules = tuple(
        Rule(kind, counts[kind], float(points[kind]), round(totals[kind], 1))
        for kind in sorted(counts, key=lambda k: -totals[k])
    )
    return Breakdown(round(sum(totals.values())), rules, half_life)


def score_lead(s: Session, lead: Lead, now: datetime) -> Breakdown:
    """Recompute ``lead``'s score from its activities and store it on the lead."""
    result = breakdown(lead_activities(s, lead.id), now)
    lead.score = result.total
    return result


def apply_event(s: Session, lead: Lead, kind: str, now: datetime) -> int:
    """Call after recording an activity of ``kind``: updates and returns the lead's score."""
    s.flush()
    if kind in (current_app.config.get("SCORING") or {}) or lead.score:
        score_lead(s, lead, now)
    return lead.score


def rescore_all(s: Session, now: datetime) -> int:
    """Recompute every lead's score (after a change of rules); returns how many changed."""
    changed = 0
    for lead in s.scalars(select(Lead).execution_options(yield_per=500)):
        before = lead.score
        if score_lead(s, lead, now).total != before:
            changed += 1
    return changed


def _get(settings: Any, *keys: str) -> Any:
    """A stop setting from a dict ([stop] as in series.toml) or a Series-like object."""
    for key in keys:
        value = settings.get(key) if isinstance(settings, Mapping) else getattr(settings, key, None)
        if value is not None:
            return value
    return None


def should_stop(lead: Lead, series_stop_settings: Any, now: datetime | None = None) -> str | None:
    """Why a series must stop for ``lead`` ([stop] tags / score_at_least), or None to go on."""
    if not series_stop_settings:
        return None
    wanted = _get(series_stop_settings, "tags", "stop_tags") or ()
    stop_tags = {normalize_tag(str(t)) for t in wanted}
    if stop_tags:
        s = object_session(lead)
        tags = set(s.scalars(select(LeadTag.tag).where(LeadTag.lead_id == lead.id))) if s else set()
        hit = sorted(stop_tags & tags)
        if hit:
            return f"tag:{hit[0]}"
    threshold = _get(series_stop_settings, "score_at_least", "stop_score")
    if threshold is not None:
        score = lead.score
        s = object_session(lead)
        if now is not None and s is not None and _settings()[1]:
            score = breakdown(lead_activities(s, lead.id), now).total
        if score >= int(threshold):
            return f"score:{score}"
    return None
