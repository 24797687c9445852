"""One theme, two renderers: server pages extend the Pelican theme's base.html."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory
from jinja2 import ChoiceLoader, FileSystemLoader

from formserver.core.site_settings import context

bp = Blueprint("site", __name__)


@bp.get("/", defaults={"path": "index.html"})
@bp.get("/<path:path>")
def static_site(path: str):
    """Serve the built site (development only), so the site and server share one origin."""
    root = Path(current_app.config["SITE_OUTPUT_PATH"])
    if path.endswith("/"):
        path += "index.html"
    elif (root / path).is_dir():
        path += "/index.html"
    if not (root / path).is_file():
        abort(404)
    return send_from_directory(root, path)


def init_app(app: Flask) -> None:
    """Add the theme to the template search path and its variables to every page."""
    theme_templates = Path(app.config["THEME_PATH"]) / "templates"
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(app.root_path) / "templates")),
            FileSystemLoader(str(theme_templates)),
        ]
    )
    if app.config["SERVE_SITE"]:
        app.register_blueprint(bp)
    app.context_processor(lambda: dict(context()))
