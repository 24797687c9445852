"""The SQL schema: leads, what they submitted and consented to, and every email due to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Lead(Base):
    """One person, known by a normalized (lower-case) email address."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    time_zone: Mapped[str] = mapped_column(String(64), default="")
    # unconfirmed | active | unsubscribed | bounced
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]

    submissions: Mapped[list[Submission]] = relationship(back_populates="lead")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="lead")

    @property
    def can_receive_marketing(self) -> bool:
        return self.status == "active"


class Submission(Base):
    """One form post, kept whole for attribution."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_offer_created", "offer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    utm_source: Mapped[str] = mapped_column(String(200), default="")
    utm_medium: Mapped[str] = mapped_column(String(200), default="")
    utm_campaign: Mapped[str] = mapped_column(String(200), default="")
    utm_term: Mapped[str] = mapped_column(String(200), default="")
    utm_content: Mapped[str] = mapped_column(String(200), default="")
    referrer: Mapped[str] = mapped_column(String(2000), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="submissions")


class Consent(Base):
    """The exact consent wording a lead agreed to, its version, and when it was confirmed."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    offer_id: Mapped[str] = mapped_column(String(64))
    wording: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]

    submission: Mapped[Submission] = relationship()


class Download(Base):
    """One delivery of a gated asset through a valid link."""

    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrolment(Base):
    """A lead's place in one drip series: the last step sent and when the next one is due."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("lead_id", "series", "cycle", name="uq_enrolment_lead_series_cycle"),
        Index("ix_enrolments_due", "status", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[str] = mapped_column(String(64))
    series: Mapped[str] = mapped_column(String(64))
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    # pending (awaiting double opt-in) | active | completed | stopped
    status: Mapped[str] = mapped_column(String(20), default="active")
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    last_step: Mapped[int] = mapped_column(Integer, default=-1)
    last_sent_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str] = mapped_column(String(64), default="")

    lead: Mapped[Lead] = relationship(back_populates="enrolments")


class Send(Base):
    """One email to one lead: a row before it is queued, so nothing is lost or sent twice."""

    __tablename__ = "sends"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "step", name="uq_send_enrolment_step"),
        Index("ix_sends_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE")
    )
    offer_id: Mapped[str] = mapped_column(String(64), default="")
    series: Mapped[str] = mapped_column(String(64), default="")
    # confirm | step | link (a fresh download link) | test
    kind: Mapped[str] = mapped_column(String(16))
    step: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(200), default="")
    # queued | sending | sent | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), default="queued")
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")


class Event(Base):
    """Something that happened to a lead or an offer, for the timeline and the funnel."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_offer_kind_created", "offer_id", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    offer_id: Mapped[str] = mapped_column(String(64), default="")
    # pageview | submitted | confirmed | downloaded | sent | clicked | unsubscribed | bounced
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The dashboard's tables: who may log in, lead tags, and the webhook delivery log.


class AdminUser(Base):
    """A marketer who may log in to /admin; only a password hash is kept."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Where the last successful login came from: the per-account throttle spares that address.
    last_login_ip: Mapped[str | None] = mapped_column(String(45))
    # Stored in each session cookie; raising it (logout, new password) ends every session.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class LeadTag(Base):
    """One tag on one lead (from an offer, a field value, the API or a marketer)."""

    __tablename__ = "lead_tags"
    __table_args__ = (
        UniqueConstraint("lead_id", "tag", name="uq_lead_tags_lead_tag"),
        Index("ix_lead_tags_tag", "tag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(100))
    # offer | field | api | admin
    source: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One signed POST owed to one configured webhook, with its attempts so far."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending | delivered | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
