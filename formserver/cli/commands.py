"""CLI: ``flask --app formserver db upgrade`` and ``leads export`` (CSV to stdout)."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, date, datetime, time

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from formserver.core import db
from formserver.core.csvsafe import safe_cell
from formserver.core.models import Lead, Submission

db_cli = AppGroup("db", help="Database schema.")
leads_cli = AppGroup("leads", help="Leads and their submissions.")

EXPORT_COLUMNS = (
    "submitted_at",
    "offer",
    "email",
    "first_name",
    "last_name",
    "company",
    "fields",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "time_zone",
    "status",
)


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Apply Alembic migrations to the configured database."""
    db.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@leads_cli.command("export")
@click.option("--offer", "offer_id", help="Only submissions to this offer id.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only from this date (UTC).")
def export(offer_id: str | None, since: datetime | None) -> None:
    """Stream one CSV row per submission to stdout, oldest first."""
    query = select(Submission, Lead).join(Lead).order_by(Submission.id)
    if offer_id:
        query = query.where(Submission.offer_id == offer_id)
    if since:
        start = datetime.combine(date(since.year, since.month, since.day), time(), tzinfo=UTC)
        query = query.where(Submission.created_at >= start)
    out = csv.writer(sys.stdout)
    out.writerow(EXPORT_COLUMNS)
    with db.new_session() as s:
        for sub, lead in s.execute(query.execution_options(yield_per=500)):
            extra = ";".join(
                f"{k}={v}"
                for k, v in sorted(sub.fields.items())
                if k not in ("email", "first_name", "last_name", "company")
            )
            row = (
                sub.created_at.isoformat(),
                sub.offer_id,
                lead.email,
                lead.first_name,
                lead.last_name,
                lead.company,
                extra,
                sub.utm_source,
                sub.utm_medium,
                sub.utm_campaign,
                sub.utm_term,
                sub.utm_content,
                sub.referrer,
                sub.time_zone,
                lead.status,
            )
            out.writerow([safe_cell(v) for v in row])


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(leads_cli)
