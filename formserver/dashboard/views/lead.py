"""One lead: fields, consent, timeline, series, score and tags; GDPR export and forget."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from formserver.content.fields import FIELDS
from formserver.core import catalog, db
from formserver.core.models import Consent, Enrolment, Lead, Submission
from formserver.domain import privacy as gdpr
from formserver.domain import scoring, tags
from formserver.domain.activity import lead_activities

bp = Blueprint("lead", __name__, url_prefix="/leads")


def _lead(lead_id: int) -> Lead:
    lead = db.session().get(Lead, lead_id)
    if lead is None or lead.status == gdpr.FORGOTTEN:
        abort(404)
    return lead


@bp.get("/<int:lead_id>")
def show(lead_id: int) -> str:
    lead = _lead(lead_id)
    s = db.session()
    now = datetime.now(UTC)
    activities = lead_activities(s, lead.id)

    def rows(model):
        return s.scalars(select(model).where(model.lead_id == lead.id).order_by(model.id)).all()

    return render_template(
        "admin/lead.html",
        lead=lead,
        activities=list(reversed(activities)),
        score=scoring.breakdown(activities, now),
        consents=rows(Consent),
        submissions=rows(Submission),
        enrolments=rows(Enrolment),
        tags=tags.lead_tags(s, lead.id),
        offers=catalog.offers(),
        labels={name: spec.label for name, spec in FIELDS.items()},
    )


@bp.post("/<int:lead_id>/tags")
def add_tag(lead_id: int) -> BaseResponse:
    lead = _lead(lead_id)
    s = db.session()
    try:
        added = tags.add_tag(s, lead, request.form.get("tag", "")[:200], "admin", datetime.now(UTC))
    except ValueError as e:
        flash(str(e).capitalize() + ".", "error")
    else:
        scoring.apply_event(s, lead, "tagged", datetime.now(UTC))
        s.commit()
        flash("Tag added." if added else "The lead already has that tag.")
    return redirect(url_for("admin.lead.show", lead_id=lead.id), 303)


@bp.post("/<int:lead_id>/tags/remove")
def remove_tag(lead_id: int) -> BaseResponse:
    lead = _lead(lead_id)
    s = db.session()
    removed = tags.remove_tag(s, lead, request.form.get("tag", ""))
    s.commit()
    flash("Tag removed." if removed else "The lead did not have that tag.")
    return redirect(url_for("admin.lead.show", lead_id=lead.id), 303)


@bp.get("/<int:lead_id>/export.json")
def export(lead_id: int) -> Response:
    """Everything stored about the lead, as a JSON download (GDPR access request)."""
    lead = _lead(lead_id)
    data = gdpr.export_lead(db.session(), lead, datetime.now(UTC))
    return Response(
        gdpr.to_json(data),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="lead-{lead.id}.json"'},
    )


@bp.get("/<int:lead_id>/forget")
def confirm_forget(lead_id: int) -> str:
    return render_template("admin/forget.html", lead=_lead(lead_id))


@bp.post("/<int:lead_id>/forget")
def forget(lead_id: int) -> BaseResponse:
    lead = _lead(lead_id)
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm that this lead's data must be erased.", "error")
        return redirect(url_for("admin.lead.confirm_forget", lead_id=lead.id), 303)
    s = db.session()
    gdpr.forget_lead(s, lead, datetime.now(UTC))
    s.commit()
    flash(f"Lead #{lead_id} was forgotten: personal data erased, anonymous counts kept.")
    return redirect(url_for("admin.leads.index"), 303)
