"""The public lead form: a WTForms class built from an offer's fields, strict on every value."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from formserver.content.fields import CONSENT_FIELD, HONEYPOT_FIELD, TIME_ZONE_FIELD, UTM_FIELDS
from formserver.content.offers import Offer

ZONES = frozenset(available_timezones())


def no_line_breaks(form: Form, field: Any) -> None:
    """CR/LF never belongs in a one-line value, and would let it into mail headers."""
    value = field.data if isinstance(field.data, str) else ""
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValidationError("This field must be a single line.")


class EmailAddress:
    """Validate with email-validator and keep its normalized, lower-cased form.

    Internationalised addresses (RFC 6531) are accepted unless ``INTERNATIONAL_EMAIL`` is
    "refuse": then a non-ASCII local part, which only an SMTPUTF8 relay can carry, is refused.
    """

    def __init__(self, check_deliverability: bool = False) -> None:
        self.check_deliverability = check_deliverability

    def __call__(self, form: Form, field: Any) -> None:
        try:
            info = validate_email(field.data or "", check_deliverability=self.check_deliverability)
        except EmailNotValidError as e:
            raise ValidationError(f"Please enter a valid email address ({e}).") from e
        if not info.local_part.isascii() and current_app.config["INTERNATIONAL_EMAIL"] == "refuse":
            raise ValidationError(
                "Please use an address with only unaccented letters, digits and . _ - + "
                "before the @: we cannot deliver to this one."
            )
        field.data = info.normalized.lower()


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class LeadFormBase(Form):
    """Fields every lead form carries: attribution, time zone, the honeypot and the stamp."""

    utm_source = StringField(validators=[Optional(), Length(max=200), no_line_breaks])
    utm_medium = StringField(validators=[Optional(), Length(max=200), no_line_breaks])
    utm_campaign = StringField(validators=[Optional(), Length(max=200), no_line_breaks])
    utm_term = StringField(validators=[Optional(), Length(max=200), no_line_breaks])
    utm_content = StringField(validators=[Optional(), Length(max=200), no_line_breaks])
    tz = StringField(validators=[Optional(), Length(max=64), no_line_breaks])
    website = StringField(validators=[Optional(), Length(max=2000)])
    # The time-trap's signed render time (formserver/timetrap.py); judged before validation.
    stamp = StringField()

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())

    @property
    def time_zone(self) -> str:
        zone = self.tz.data or ""
        return zone if zone in ZONES else ""


@lru_cache(maxsize=256)
def form_class(offer: Offer, check_deliverability: bool = False) -> type[LeadFormBase]:
    """One Form subclass per offer, built once: a field per offer field, consent if asked."""
    attrs: dict[str, Any] = {}
    for spec in offer.fields:
        required = [InputRequired(message="This field is required.")] if spec.required else []
        checks = [*required, Optional(), Length(max=spec.max_length), no_line_breaks]
        if spec.name == "email":
            checks.append(EmailAddress(check_deliverability))
        if spec.choices:
            choices = [SelectChoice("", ""), *(SelectChoice(v, label) for v, label in spec.choices)]
            attrs[spec.name] = SelectField(
                spec.label, choices=choices, validators=checks, validate_choice=True
            )
        else:
            attrs[spec.name] = StringField(spec.label, validators=checks, filters=[_strip])
    if offer.consent:
        attrs[CONSENT_FIELD] = BooleanField(
            "Consent", validators=[DataRequired(message="Please tick the box to continue.")]
        )
    return type(f"LeadForm_{offer.id.replace('-', '_')}", (LeadFormBase,), attrs)


def bind(offer: Offer, data: MultiDict, check_deliverability: bool = False) -> LeadFormBase:
    """A lead form for ``offer`` bound to the posted values."""
    return form_class(offer, check_deliverability)(formdata=data)


def field_values(form: LeadFormBase, offer: Offer) -> dict[str, str]:
    """The offer's own fields as submitted, empty ones left out."""
    return {name: form[name].data for name in offer.field_names if form[name].data}


def attribution(form: LeadFormBase) -> dict[str, str]:
    return {name: form[name].data or "" for name in UTM_FIELDS}


def form_values(data: MultiDict, offer: Offer) -> dict[str, str]:
    """What to put back in the form after an error: the visitor's own input, nothing else."""
    keep = (*offer.field_names, *UTM_FIELDS, TIME_ZONE_FIELD, CONSENT_FIELD)
    return {k: str(data.get(k, ""))[:2000] for k in keep if k != HONEYPOT_FIELD}
