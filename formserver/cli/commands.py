"""CLI: ``flask --app formserver db upgrade`` and ``leads export`` (CSV to stdout)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import Lead, Submission
from formserver.domain import export as export_rows

db_cli = AppGroup("db", help="Database schema.")
leads_cli = AppGroup("leads", help="Leads and their submissions.")


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
    with db.new_session() as s:
        # The dashboard's columns and row builder, one row per submission with its own consent.
        for chunk in export_rows.csv_text(export_rows.submission_rows(s, query)):
            sys.stdout.write(chunk)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(leads_cli)
