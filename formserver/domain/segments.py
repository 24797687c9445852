"""A segment of leads: search words, offer, tag, minimum score and status, as one SQL query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from sqlalchemy import Select, and_, or_, select

from formserver.core.models import Lead, LeadTag, Submission
from formserver.domain.tags import normalize_tag

STATUSES = ("unconfirmed", "active", "unsubscribed", "bounced")
FORGOTTEN = "forgotten"


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(str(raw).strip()) if raw not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class LeadFilter:
    """The filters of the leads page; unknown or malformed values are ignored, never an error."""

    q: str = ""
    offer: str = ""
    tag: str = ""
    min_score: int | None = None
    status: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LeadFilter:
        status = args.get("status", "").strip()
        score = _int_or_none(args.get("min_score"))
        return cls(
            q=" ".join(args.get("q", "").split())[:200],
            offer=args.get("offer", "").strip()[:64],
            tag=normalize_tag(args.get("tag", "")),
            min_score=max(min(score, 10**9), -(10**9)) if score is not None else None,
            status=status if status in STATUSES else "",
        )

    def query_args(self) -> dict[str, str | int]:
        """The non-empty filters, for links that keep them (pages, CSV export)."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}

    @property
    def active(self) -> bool:
        return bool(self.query_args())

    def statement(self) -> Select:
        """SELECT the matching leads, newest first; forgotten leads are never listed."""
        stmt = select(Lead).where(Lead.status != FORGOTTEN)
        for word in self.q.split():
            stmt = stmt.where(
                or_(
                    Lead.email.icontains(word, autoescape=True),
                    Lead.first_name.icontains(word, autoescape=True),
                    Lead.last_name.icontains(word, autoescape=True),
                    Lead.company.icontains(word, autoescape=True),
                )
            )
        if self.offer:
            stmt = stmt.where(
                select(Submission.id)
                .where(and_(Submission.lead_id == Lead.id, Submission.offer_id == self.offer))
                .exists()
            )
        if self.tag:
            stmt = stmt.where(
                select(LeadTag.id)
                .where(and_(LeadTag.lead_id == Lead.id, LeadTag.tag == self.tag))
                .exists()
            )
        if self.min_score is not None:
            stmt = stmt.where(Lead.score >= self.min_score)
        if self.status:
            stmt = stmt.where(Lead.status == self.status)
        return stmt.order_by(Lead.created_at.desc(), Lead.id.desc())
