"""The Pelican settings the server's pages and emails read (site name, SITEURL, menu)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from flask import Flask, current_app

# Pelican settings that the theme's base.html reads.
THEME_SETTINGS = (
    "SITENAME",
    "SITESUBTITLE",
    "SITEURL",
    "DEFAULT_LANG",
    "MENUITEMS",
    "FEED_ALL_ATOM",
    "FEED_DOMAIN",
    "THEME_STATIC_DIR",
    "FORMSERVER_URL",
    "COPYRIGHT",
)
# Pelican's own defaults for those of them a settings file may leave out.
PELICAN_DEFAULTS = {
    "SITENAME": "A Pelican Blog",
    "SITEURL": "",
    "DEFAULT_LANG": "en",
    "FEED_ALL_ATOM": "feeds/all.atom.xml",
    "THEME_STATIC_DIR": "theme",
}


def site_context(settings_file: str) -> dict[str, Any]:
    """The theme variables from the Pelican settings file, as the static build sees them.

    The file is run as Python, as Pelican does, without importing Pelican (a tenth of a second
    that no command needs); a test checks the result equals Pelican's ``read_settings``.
    """
    path = Path(settings_file).resolve()
    settings = PELICAN_DEFAULTS | runpy.run_path(str(path), run_name="lodestone_site_settings")
    settings.setdefault("FEED_DOMAIN", settings["SITEURL"])  # as Pelican does
    return {key: settings.get(key) for key in THEME_SETTINGS}


def context(app: Flask | None = None) -> dict[str, Any]:
    """The theme variables of this app, read from its settings file on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("site_context")
    if found is None:
        found = site_context(app.config["SITE_SETTINGS"])
        if app.config["SERVE_SITE"]:
            found["SITEURL"] = ""
        app.extensions["site_context"] = found
    return found
