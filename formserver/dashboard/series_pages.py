"""``/admin/series/``: each drip email previewed as a lead sees it, its timeline, a test send."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from formserver.content.errors import FormServerError, SeriesError
from formserver.content.series import get_series
from formserver.mail.tooling.preview import preview_series, sample_lead
from formserver.mail.tooling.timeline import timeline

bp = Blueprint("series_pages", __name__, url_prefix="/admin/series")


def _emails() -> Path:
    return Path(current_app.config["CONTENT_PATH"]) / "emails"


@bp.get("/")
def index():
    names = sorted(p.parent.name for p in _emails().glob("*/series.toml"))
    return render_template("series/index.html", names=names)


def _start_and_zone() -> tuple[datetime, str]:
    start, zone = datetime.now(UTC), request.args.get("tz", "")[:64]
    if request.args.get("start"):
        try:
            start = datetime.fromisoformat(request.args["start"][:40])
        except ValueError:
            abort(400, description="start must be an ISO date-time, e.g. 2026-12-01T09:00")
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start
    # A timeline runs months past its start: keep the start where every step still has a date.
    if not datetime(1970, 1, 1, tzinfo=UTC) <= start <= datetime(9000, 1, 1, tzinfo=UTC):
        abort(400, description="start must be between 1970 and 9000")
    return start, zone


@bp.get("/<name>")
def show(name: str):
    try:
        series = get_series(_emails(), name)
        previews = preview_series(series, sample_lead())
    except SeriesError as e:
        return render_template("series/broken.html", name=name, error=e), 422
    if not (_emails() / name).is_dir():
        abort(404)
    start, zone = _start_and_zone()
    subjects = {p.email.path: p.rendered.subject for p in previews}
    rows = timeline(series, start, zone)
    return render_template(
        "series/show.html",
        series=series,
        previews=previews,
        rows=rows,
        subjects=subjects,
        zone=zone,
        start=start,
    )


@bp.post("/<name>/send-test")
def send_test(name: str):
    from formserver.mail.tooling.testsend import send_tests

    to = request.form.get("to", "")[:254]
    step = request.form.get("step", "")
    try:
        sent = send_tests(get_series(_emails(), name), to, int(step) if step.isdigit() else None)
        flash(f"Sent {len(sent)} test email(s) to {to}.", "success")
    except (FormServerError, OSError) as e:
        flash(f"Not sent: {e}", "error")
    return redirect(url_for("series_pages.show", name=name))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
