"""``flask dev``: the whole product on one machine, one foreground command, Ctrl-C stops it all."""

from __future__ import annotations

import mailbox
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple


class OutboxHandler:
    """aiosmtpd handler that files each message into the Maildir the Outbox page reads."""

    def __init__(self, path: Path) -> None:
        self.maildir = mailbox.Maildir(path, create=True)

    async def handle_DATA(self, server, session, envelope):
        self.maildir.add(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args])


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def dev_command(host: str, port: int) -> None:
    """Serve site and forms on one origin, run the worker, an SMTP sink and site rebuilds."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    cfg = app.config
    from aiosmtpd.controller import Controller  # the dev sink: only this command needs it

    sink = Controller(
        OutboxHandler(Path(cfg["OUTBOX_PATH"])), hostname="127.0.0.1", port=cfg["MAIL_PORT"]
    )
    sink.start()
    children = [
        _spawn(
            "pelican",
            "content",
            "-s",
            cfg["SITE_SETTINGS"],
            "-o",
            cfg["SITE_OUTPUT_PATH"],
            "--autoreload",
            "--quiet",
        ),
        _spawn("flask", "--app", "formserver", "worker"),
    ]
    base = f"http://{host}:{port}"
    click.secho(f"\n  Lodestone is running at {base}/", fg="green", bold=True)
    click.echo(f"  Outbox (every email sent): {base}/admin/outbox/")
    click.echo(
        f"  Admin: {base}/admin/  (login {cfg['DEV_ADMIN_EMAIL']} / {cfg['DEV_ADMIN_PASSWORD']})"
    )
    click.echo("  Ctrl-C stops everything.\n")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        sink.stop()


def init_app(app: Flask) -> None:
    app.cli.add_command(dev_command)
