"""The leads list: search and filters, pages, and the same list as a streamed CSV file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import func, select

from formserver.core import catalog, db
from formserver.dashboard import csvexport
from formserver.domain.segments import STATUSES, LeadFilter
from formserver.domain.tags import all_tags, tags_by_lead

bp = Blueprint("leads", __name__, url_prefix="/leads")


def _page() -> int:
    try:
        return min(max(int(request.args.get("page", "1")), 1), 10**6)
    except ValueError:
        return 1


@bp.get("/")
def index():
    flt = LeadFilter.from_args(request.args)
    s = db.session()
    size = current_app.config["ADMIN_PAGE_SIZE"]
    page = _page()
    stmt = flt.statement()
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    leads = s.scalars(stmt.limit(size).offset((page - 1) * size)).all()
    return render_template(
        "admin/leads.html",
        flt=flt,
        leads=leads,
        tags=tags_by_lead(s, [lead.id for lead in leads]),
        total=total,
        page=page,
        pages=max((total + size - 1) // size, 1),
        statuses=STATUSES,
        offers=catalog.offers(),
        known_tags=all_tags(s),
    )


@bp.get("/export.csv")
def export() -> Response:
    """The filtered list as CSV, written row batch by row batch (no size limit in memory)."""
    flt = LeadFilter.from_args(request.args)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def lines() -> Iterator[str]:
        # A session of its own: the request's session is closed before the body streams.
        with db.new_session(app) as s:
            yield from csvexport.csv_lines(s, flt.statement())

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(
        lines(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'},
    )
