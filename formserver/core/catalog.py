"""Every offer by id, read once and re-read when a landing page changes (one cache for all)."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from formserver.content.errors import OfferError
from formserver.content.offers import Offer, load_offers

logger = logging.getLogger(__name__)


def _dirs(app: Flask) -> tuple[Path, Path, Path]:
    content = Path(app.config["CONTENT_PATH"])
    return content / "landing", Path(app.config["ASSETS_PATH"]), content / "emails"


def _stamp(landing: Path) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((str(p), p.stat().st_mtime) for p in landing.glob("**/*.md")))


def offers(app: Flask | None = None) -> dict[str, Offer]:
    """Every offer by id; a broken landing page is logged and leaves the last good list."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    landing, assets, emails = _dirs(app)
    cache = app.extensions.setdefault("admin_offers", {"stamp": None, "offers": {}})
    stamp = _stamp(landing) if landing.is_dir() else ()
    if stamp != cache["stamp"]:
        try:
            cache["offers"] = load_offers(landing, assets, emails) if stamp else {}
        except OfferError as e:
            logger.error("offers not reloaded: %s", e)
        cache["stamp"] = stamp
    return cache["offers"]


def offer(offer_id: str) -> Offer | None:
    return offers().get(offer_id)
