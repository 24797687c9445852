"""Pelican plugin: landing pages get their offer's lead form, articles get call-to-action boxes.

Offers are read by ``formserver.offers``, the same module the form server uses, so the form a
visitor sees and the form the server validates cannot disagree. Any broken offer stops the build
with the file and the reason.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from jinja2.runtime import Macro
from markupsafe import Markup
from pelican import signals

# The content layer only (the project is installed: `pip install -e .`): no Flask, no SQL.
from formserver.content.errors import OfferError
from formserver.content.offers import Offer, load_offers

logger = logging.getLogger(__name__)
SETTING = "LANDING"
REQUIRED = ("assets_path", "emails_path", "landing_path")
SHORTCODE = re.compile(r"<p>\s*\[cta:([^\]\s]*)\]\s*</p>")
STATE = "_LANDING_STATE"
_MACROS: dict[str, Macro] = {}


def check_settings(settings: dict[str, Any]) -> dict[str, Path]:
    """Validate the one ``LANDING`` dict setting; raise with what is wrong."""
    conf = settings.get(SETTING)
    if not isinstance(conf, dict):
        raise OfferError("pelicanconf.py", f"{SETTING} must be a dict with keys {REQUIRED}")
    missing = [key for key in REQUIRED if key not in conf]
    unknown = sorted(set(conf) - set(REQUIRED))
    if missing or unknown:
        raise OfferError("pelicanconf.py", f"{SETTING}: missing {missing}, unknown {unknown}")
    paths = {key: Path(conf[key]) for key in REQUIRED}
    for key, path in paths.items():
        if not path.is_dir():
            raise OfferError("pelicanconf.py", f"{SETTING}[{key!r}]: no folder at {path}")
    return paths


def initialized(pelican) -> None:
    """Load and check every offer once per build; a broken one stops the build."""
    paths = check_settings(pelican.settings)
    offers = load_offers(paths["landing_path"], paths["assets_path"], paths["emails_path"])
    # Only picklable values in settings: Pelican's content cache pickles them.
    pelican.settings[STATE] = {
        "offers": offers,
        "landing_path": paths["landing_path"].resolve(),
        "templates": str(Path(pelican.settings["THEME"]) / "templates"),
    }


def cta_box(templates: str) -> Macro:
    """The theme's ``cta_box`` macro, so the box looks the same wherever it appears."""
    if templates not in _MACROS:
        env = Environment(loader=FileSystemLoader(templates), autoescape=True)
        module = env.get_template("macros.html").module
        # A template module's attributes are its macros, set at run time: unknown to the types.
        _MACROS[templates] = module.cta_box  # type: ignore[attr-defined]
    return _MACROS[templates]


def _cta(state: dict[str, Any], offer_id: str, source: str) -> Offer:
    offer = state["offers"].get(offer_id)
    if offer is None:
        raise OfferError(source, f"unknown offer {offer_id!r} in call to action")
    return offer


def content_init(instance) -> None:
    """Attach offers to landing pages and CTA boxes to articles and pages."""
    settings = instance.settings
    state = settings.get(STATE)
    if state is None or not getattr(instance, "source_path", None):
        return
    source = instance.source_path
    meta = instance.metadata
    if "offer" in meta:
        path = Path(source).resolve()
        offer = next((o for o in state["offers"].values() if o.source.resolve() == path), None)
        if offer is None:
            raise OfferError(source, f"offer pages belong in {state['landing_path']}")
        instance.offer = offer
        instance.form_action = f"{settings.get('FORMSERVER_URL', '')}/forms/{offer.id}"
        instance.template = "landing"
    siteurl = settings.get("SITEURL", "")
    if "cta" in meta:
        instance.cta_offer = _cta(state, str(meta["cta"]).strip(), source)
        instance.cta_summary = instance.cta_offer.summary
    content = instance._content  # not .content: see pelican-plugins #314
    if content and "[cta:" in content:

        def box(match: re.Match[str]) -> str:
            offer = _cta(state, match.group(1), source)
            url = f"{siteurl}/{offer.landing_path}"
            return str(cta_box(state["templates"])(offer, offer.summary, url))

        # Pelican already rendered this from the writer's Markdown; the boxes are autoescaped.
        instance._content = Markup(SHORTCODE.sub(box, content))  # nosec B704


def _stop_on_offer_error(receiver):
    """Turn an OfferError into one line on stderr and exit status 1, not a traceback."""

    def wrapper(sender):
        try:
            return receiver(sender)
        except OfferError as e:
            raise SystemExit(f"ERROR: {e}") from e

    wrapper.__name__ = receiver.__name__
    return wrapper


checked_initialized = _stop_on_offer_error(initialized)
checked_content_init = _stop_on_offer_error(content_init)


def register() -> None:
    signals.initialized.connect(checked_initialized)
    signals.content_object_init.connect(checked_content_init)
