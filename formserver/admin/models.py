"""The dashboard's own tables: who may log in, lead tags, and the webhook delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from formserver.models import Base, utcnow


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
