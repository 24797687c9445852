"""Offers and their funnels: page views to clicks, a daily chart, and where leads came from."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, or_, select

from formserver.core import catalog, db
from formserver.core.models import Event, Submission
from formserver.dashboard import chart, funnel

bp = Blueprint("offers", __name__)


def _range() -> funnel.DateRange:
    return funnel.DateRange.from_args(request.args, datetime.now(UTC).date())


@bp.get("/")
def index() -> str:
    rng = _range()
    known = catalog.offers()
    totals = funnel.offer_totals(db.session(), list(known), rng)
    return render_template("admin/offers.html", rng=rng, totals=totals, offers=known)


def _seen(offer_id: str) -> bool:
    s = db.session()
    sub = select(Submission.id).where(Submission.offer_id == offer_id).limit(1)
    ev = select(Event.id).where(Event.offer_id == offer_id).limit(1)
    return bool(s.scalar(select(func.count()).where(or_(sub.exists(), ev.exists()))))


@bp.get("/offers/<offer_id>")
def show(offer_id: str) -> str:
    offer = catalog.offer(offer_id)
    if offer is None and not _seen(offer_id):
        abort(404)
    title = offer.title if offer else offer_id
    rng = _range()
    s = db.session()
    per_day = funnel.submissions_per_day(s, offer_id, rng)
    svg = chart.bar_chart(
        per_day,
        f"Submissions per day for {title}, {rng.start.isoformat()} to {rng.end.isoformat()}",
    )
    breakdowns = {
        label: funnel.breakdown(s, offer_id, rng, key) for key, label in funnel.DIMENSIONS.items()
    }
    return render_template(
        "admin/offer.html",
        offer=offer,
        offer_id=offer_id,
        title=title,
        rng=rng,
        stages=funnel.funnel(s, offer_id, rng),
        chart=svg,
        per_day=per_day,
        breakdowns=breakdowns,
    )
