"""The lead fields an offer may ask for: one registry read by the site build and the form server."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FieldSpec:
    """How one lead field looks in the form and how long its value may be."""

    name: str
    label: str
    input_type: str = "text"  # "text", "email", "tel", "select"
    autocomplete: str = "off"
    max_length: int = 200
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()

    def optional(self) -> FieldSpec:
        """Return a copy of this field that may be left empty."""
        return replace(self, required=False)


ROLE_CHOICES = (
    ("marketing", "Marketing"),
    ("sales", "Sales"),
    ("founder", "Founder or executive"),
    ("operations", "Operations"),
    ("other", "Other"),
)

COMPANY_SIZE_CHOICES = (
    ("1-10", "1–10 people"),
    ("11-50", "11–50 people"),
    ("51-200", "51–200 people"),
    ("201-1000", "201–1,000 people"),
    ("1000+", "More than 1,000 people"),
)

FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("email", "Work email", "email", "email", 254),
        FieldSpec("first_name", "First name", "text", "given-name", 100),
        FieldSpec("last_name", "Last name", "text", "family-name", 100),
        FieldSpec("company", "Company", "text", "organization", 200),
        FieldSpec("job_title", "Job title", "text", "organization-title", 200),
        FieldSpec("phone", "Phone", "tel", "tel", 40),
        FieldSpec("role", "Your role", "select", "off", 40, choices=ROLE_CHOICES),
        FieldSpec(
            "company_size", "Company size", "select", "off", 20, choices=COMPANY_SIZE_CHOICES
        ),
    )
}

# Fields every form carries besides the offer's own: attribution, time zone, honeypot.
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
TIME_ZONE_FIELD = "tz"
HONEYPOT_FIELD = "website"
CONSENT_FIELD = "consent"
