"""Offer definitions from landing-page metadata, read by the site build and the server."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import markdown
from markupsafe import Markup

from formserver.content.errors import OfferError
from formserver.content.fields import FIELDS, FieldSpec

OFFER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
REQUIRED_KEYS = ("offer", "title", "asset", "series", "fields", "thank_you")
TRUE_WORDS = {"yes", "true", "1", "on"}
FALSE_WORDS = {"no", "false", "0", "off", ""}


@dataclass(frozen=True)
class Offer:
    """One gated offer: what the visitor gives, what they get, and which series follows."""

    id: str
    title: str
    asset: Path
    series: str
    fields: tuple[FieldSpec, ...]
    thank_you: str
    double_optin: bool = False
    consent: str = ""
    consent_version: str = ""
    button: str = "Send it to me"
    lead_tags: tuple[str, ...] = ()
    slug: str = ""
    summary: str = ""
    source: Path | None = None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def landing_path(self) -> str:
        """Site-relative URL of the landing page, e.g. ``playbook/``."""
        return f"{self.slug or self.id}/"

    @property
    def consent_html(self) -> Markup:
        """The consent wording rendered from its inline Markdown (links allowed)."""
        html = markdown.markdown(self.consent)
        # The wording comes from a landing page in git (a writer), never from a visitor.
        return Markup(re.sub(r"^<p>(.*)</p>$", r"\1", html, flags=re.S))  # nosec B704

    @property
    def asset_filename(self) -> str:
        return self.asset.name


def _flag(meta: Mapping[str, str], key: str, source: Path) -> bool:
    word = meta.get(key, "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise OfferError(source, f"{key} must be yes or no, not {word!r}")


def _fields(value: str, source: Path) -> tuple[FieldSpec, ...]:
    specs: list[FieldSpec] = []
    for raw in (part.strip() for part in value.split(",")):
        if not raw:
            continue
        name, optional = raw.rstrip("?"), raw.endswith("?")
        if name not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise OfferError(source, f"unknown field {name!r} (known fields: {known})")
        if name in (s.name for s in specs):
            raise OfferError(source, f"field {name!r} is listed twice")
        specs.append(FIELDS[name].optional() if optional else FIELDS[name])
    email = next((s for s in specs if s.name == "email"), None)
    if email is None or not email.required:
        raise OfferError(source, "fields must include email, and email cannot be optional")
    return tuple(specs)


def offer_from_metadata(
    meta: Mapping[str, str], source: Path, assets_dir: Path, emails_dir: Path
) -> Offer:
    """Build and check an offer from one landing page's metadata (keys lower-case)."""
    missing = [key for key in REQUIRED_KEYS if not str(meta.get(key, "")).strip()]
    if missing:
        raise OfferError(source, f"missing required key(s): {', '.join(missing)}")
    offer_id = meta["offer"].strip()
    if not OFFER_ID.match(offer_id):
        raise OfferError(source, f"offer id {offer_id!r} must be lower-case letters, digits, -")
    asset = (assets_dir / meta["asset"].strip()).resolve()
    if not asset.is_relative_to(assets_dir.resolve()) or not asset.is_file():
        raise OfferError(source, f"asset {meta['asset'].strip()!r} not found in {assets_dir}")
    series = meta["series"].strip()
    if not OFFER_ID.match(series) or not (emails_dir / series / "series.toml").is_file():
        raise OfferError(
            source, f"unknown series {series!r} (no {emails_dir / series}/series.toml)"
        )
    double_optin = _flag(meta, "double_optin", source)
    consent = " ".join(meta.get("consent", "").split())
    version = meta.get("consent_version", "").strip()
    if consent and not version:
        raise OfferError(source, "consent needs a consent_version")
    if double_optin and not (emails_dir / series / "confirm.md").is_file():
        raise OfferError(source, f"double opt-in offer needs {emails_dir / series}/confirm.md")
    tags = tuple(t.strip() for t in meta.get("lead_tags", "").split(",") if t.strip())
    return Offer(
        id=offer_id,
        title=meta["title"].strip(),
        asset=asset,
        series=series,
        fields=_fields(meta["fields"], source),
        thank_you=" ".join(meta["thank_you"].split()),
        double_optin=double_optin,
        consent=consent,
        consent_version=version,
        button=meta.get("button", "").strip() or "Send it to me",
        lead_tags=tags,
        slug=meta.get("slug", "").strip() or offer_id,
        summary=" ".join(meta.get("summary", "").split()),
        source=source,
    )


def read_metadata(path: Path) -> dict[str, str]:
    """Read a Markdown file's metadata block the way Pelican's Markdown reader does."""
    md = markdown.Markdown(extensions=["markdown.extensions.meta"])
    md.convert(path.read_text(encoding="utf-8"))
    return {key: "\n".join(lines) for key, lines in md.Meta.items()}


def load_offers(landing_dir: Path, assets_dir: Path, emails_dir: Path) -> dict[str, Offer]:
    """Load every offer under ``landing_dir``; raise OfferError naming the first bad file."""
    offers: dict[str, Offer] = {}
    for path in sorted(landing_dir.glob("**/*.md")):
        meta = read_metadata(path)
        if "offer" not in meta:
            continue
        offer = offer_from_metadata(meta, path, assets_dir, emails_dir)
        if offer.id in offers:
            raise OfferError(
                path, f"duplicate offer id {offer.id!r} (also in {offers[offer.id].source})"
            )
        offers[offer.id] = offer
    return offers
