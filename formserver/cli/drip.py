"""CLI: ``flask --app formserver drip tick [--now ISO]`` and ``flask --app formserver worker``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

drip_cli = AppGroup("drip", help="Drip series: dispatch, preview, lint, test sends.")


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware UTC datetime; a value without a zone is UTC."""
    if not value:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"{value!r} is not an ISO date-time") from e
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@drip_cli.command("tick")
@click.option("--now", "now_text", metavar="ISO-DATETIME", help="Pretend it is this time (UTC).")
def tick_command(now_text: str | None) -> None:
    """One synchronous pass: schedule due steps and send them, without the queue."""
    from formserver.mail.tick import tick

    totals = tick(parse_now(now_text))
    click.echo(" ".join(f"{k}={v}" for k, v in sorted(totals.items())))


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads sending in parallel.")
def worker_command(workers: int) -> None:
    """Run the queue consumer: sends, retries and the periodic dispatch (Ctrl-C stops)."""
    from formserver.mail import smtp as mail

    try:
        mail.check_sending_config()  # refuse to start rather than defer every email in silence
    except mail.SendingMisconfigured as e:
        raise click.ClickException(str(e)) from e
    if current_app.config["MAIL_SUPPRESS_SEND"]:
        click.echo("MAIL_SUPPRESS_SEND is on: emails are recorded as sent, none leaves", err=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    huey = current_app.extensions["huey"]
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()


def init_app(app: Flask) -> None:
    app.cli.add_command(drip_cli)
    app.cli.add_command(worker_command)


def _series(name: str):
    from formserver.content.errors import SeriesError
    from formserver.content.series import get_series

    try:
        return get_series(Path(current_app.config["CONTENT_PATH"]) / "emails", name)
    except SeriesError as e:
        raise click.ClickException(str(e)) from e


@drip_cli.command("preview")
@click.argument("series")
@click.option("--step", type=int, help="Only this step number.")
@click.option(
    "--lead",
    "lead_file",
    type=click.Path(exists=True, path_type=Path),
    help="A JSON file of lead fields instead of the built-in sample lead.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Folder for the files.")
def preview_command(
    series: str, step: int | None, lead_file: Path | None, out: Path | None
) -> None:
    """Render each step (subject, preheader, HTML, text) into files a browser opens."""
    from formserver.mail.tooling.preview import preview_series, sample_lead, write_preview

    found = _series(series)
    previews = preview_series(found, sample_lead(lead_file), step)
    if not previews:
        raise click.ClickException(f"{series} has no step {step}")
    out = out or Path(current_app.instance_path) / "preview" / series
    index = write_preview(found, previews, out)
    for p in previews:
        click.echo(f"{p.label}  {p.rendered.subject}")
    click.echo(f"open {index}")


def _lint_app() -> Flask:
    """The app lint reads its settings from: a test's or custom factory's, else the bare one.

    ``flask --app formserver drip lint`` (what ``make build`` runs) needs the settings and the
    files only, so it skips the extensions, the database and the queue (a fraction of the start).
    """
    from flask.cli import ScriptInfo

    from formserver.core.config import configured_app

    info = click.get_current_context().ensure_object(ScriptInfo)
    if info.create_app is None and info.app_import_path in (None, "formserver"):
        return configured_app()
    return info.load_app()


@drip_cli.command("lint", with_appcontext=False)
@click.argument("series", nargs=-1)
@click.option("--spam", is_flag=True, help="Also score each email with SpamAssassin.")
@click.option("--threshold", default=3.0, show_default=True, help="Highest spam score allowed.")
def lint_command(series: tuple[str, ...], spam: bool, threshold: float) -> None:
    """Check series for mistakes; exit 1 on any error (warnings alone pass)."""
    if spam:  # scoring renders every email: the whole app
        from flask.cli import ScriptInfo

        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    else:
        app = _lint_app()
    with app.app_context():
        _lint(series, spam, threshold)


def _lint(series: tuple[str, ...], spam: bool, threshold: float) -> None:
    from formserver.mail.tooling.lint import lint_series, site_hosts

    emails = Path(current_app.config["CONTENT_PATH"]) / "emails"
    names = series or tuple(sorted(p.parent.name for p in emails.glob("*/series.toml")))
    output = Path(current_app.config["SITE_OUTPUT_PATH"])
    problems = [p for name in names for p in lint_series(emails, name, output, site_hosts())]
    if spam:
        from formserver.mail.tooling.spam import score_series

        problems += [p for name in names for p in score_series(_series(name), threshold)]
    for problem in problems:
        click.echo(str(problem), err=not problem.warning)
    errors = [p for p in problems if not p.warning]
    click.echo(f"{len(names)} series, {len(errors)} errors, {len(problems) - len(errors)} warnings")
    if errors:
        raise SystemExit(1)


@drip_cli.command("send-test")
@click.argument("series")
@click.option("--to", "to", required=True, help="Where to send the test.")
@click.option("--step", type=int, help="Only this step number.")
@click.option("--lead", "lead_file", type=click.Path(exists=True, path_type=Path))
def send_test_command(series: str, to: str, step: int | None, lead_file: Path | None) -> None:
    """Send the real rendered email(s) through SMTP with [TEST] in the subject."""
    from formserver.content.errors import FormServerError
    from formserver.mail.tooling.testsend import send_tests

    try:
        subjects = send_tests(_series(series), to, step, lead_file)
    except (FormServerError, OSError) as e:  # a bad address, a bad key, an unreachable relay
        raise click.ClickException(str(e)) from e
    for subject in subjects:
        click.echo(f"sent: {subject}")
    if current_app.config["MAIL_SUPPRESS_SEND"]:
        click.echo("(MAIL_SUPPRESS_SEND is on: nothing left this machine)")


@drip_cli.command("timeline")
@click.argument("series")
@click.option("--start", "start_text", required=True, metavar="ISO-DATETIME")
@click.option("--tz", "zone", default="", help="The lead's time zone (default: the series').")
def timeline_command(series: str, start_text: str, zone: str) -> None:
    """When each step goes out for a lead enrolled at --start."""
    from formserver.mail.tooling.preview import preview_series, sample_lead
    from formserver.mail.tooling.timeline import table, timeline

    found = _series(series)
    subjects = {p.email.path: p.rendered.subject for p in preview_series(found, sample_lead())}
    click.echo(table(timeline(found, parse_now(start_text), zone), subjects))
