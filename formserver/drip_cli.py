"""CLI: ``flask --app formserver drip tick [--now ISO]`` and ``flask --app formserver worker``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

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
    from formserver.drip import tick

    totals = tick(parse_now(now_text))
    click.echo(" ".join(f"{k}={v}" for k, v in sorted(totals.items())))


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads sending in parallel.")
def worker_command(workers: int) -> None:
    """Run the queue consumer: sends, retries and the periodic dispatch (Ctrl-C stops)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    huey = current_app.extensions["huey"]
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()


def init_app(app: Flask) -> None:
    app.cli.add_command(drip_cli)
    app.cli.add_command(worker_command)
