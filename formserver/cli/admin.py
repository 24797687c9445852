"""`flask admin ...`: create dashboard users, forget or export a lead, recompute scores."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from formserver.core import db
from formserver.core.models import Lead
from formserver.domain import admin_users, scoring
from formserver.domain import privacy as gdpr

logger = logging.getLogger(__name__)
admin_cli = AppGroup("admin", help="Dashboard users and GDPR requests.")


def _find_lead(s, email: str) -> Lead:
    lead = s.scalar(select(Lead).where(Lead.email == email.strip().lower()))
    if lead is None:
        raise click.ClickException(f"no lead has the address {email}")
    return lead


@admin_cli.command("create-user")
@click.argument("email")
@click.option("--password", help="Leave out to be asked (hidden input, typed twice).")
def create_user(email: str, password: str | None) -> None:
    """Create a dashboard user, or set a new password for an existing one."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with db.new_session() as s:
        try:
            user = admin_users.create_user(s, email, password)
        except ValueError as e:
            raise click.ClickException(str(e)) from e
        s.commit()
        click.echo(f"User {user.email} can now log in at /admin/.")


@admin_cli.command("forget")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget(email: str, yes: bool) -> None:
    """Erase a lead's personal data (GDPR); anonymous counts are kept."""
    with db.new_session() as s:
        lead = _find_lead(s, email)
        if not yes:
            click.confirm(f"Erase every piece of personal data about {email}?", abort=True)
        gdpr.forget_lead(s, lead, datetime.now(UTC))
        s.commit()
        click.echo(f"Lead #{lead.id} forgotten.")


@admin_cli.command("export-lead")
@click.argument("email")
def export_lead(email: str) -> None:
    """Print everything stored about a lead as JSON (GDPR access request)."""
    with db.new_session() as s:
        lead = _find_lead(s, email)
        click.echo(gdpr.to_json(gdpr.export_lead(s, lead, datetime.now(UTC))))


@admin_cli.command("rescore")
def rescore() -> None:
    """Recompute every lead's score with the current SCORING rules."""
    with db.new_session() as s:
        changed = scoring.rescore_all(s, datetime.now(UTC))
        s.commit()
    click.echo(f"{changed} score(s) changed.")
    logger.info("rescored leads with %s", current_app.config.get("SCORING"))
