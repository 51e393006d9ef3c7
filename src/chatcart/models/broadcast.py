"""Broadcasts: one message to an audience, paced, and a ledger row per recipient."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.models.base import Base, CreatedMixin, IdMixin


class Broadcast(IdMixin, CreatedMixin, Base):
    __tablename__ = "broadcast"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # Channel accounts in order of preference: a contact is reached on the first that can.
    channel_account_ids: Mapped[list[int]] = mapped_column(JSON)
    # The audience: a segment (a pasted ID list is a static segment).
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    # {"text": spin text, "attachments": [...], "quick_replies": [...]}
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    purpose: Mapped[str] = mapped_column(String(30))
    # "send N, then pause S seconds (± jitter)"; None: no batch pauses.
    batch_size: Mapped[int | None]
    pause_seconds: Mapped[float] = mapped_column(default=0.0)
    jitter_seconds: Mapped[float] = mapped_column(default=0.0)
    max_per_second: Mapped[float | None]
    frequency_cap_hours: Mapped[int] = mapped_column(default=24)  # 0: no cap
    quiet_start_hour: Mapped[int | None]  # in the contact's time zone, e.g. 21 ...
    quiet_end_hour: Mapped[int | None]  # ... to 8
    scheduled_at: Mapped[datetime | None]
    # draft -> scheduled -> running <-> paused -> done | cancelled
    status: Mapped[str] = mapped_column(String(12), default="draft")
    pause_reason: Mapped[str | None] = mapped_column(Text)
    paused_by: Mapped[str | None] = mapped_column(String(10))  # seller | reauth
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Pacing state shared by every worker: when the next batch may start, and how many of
    # the current batch are taken.
    next_batch_at: Mapped[datetime | None]
    batch_taken: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BroadcastRecipient(IdMixin, Base):
    """The ledger: one row per contact of the frozen audience, whatever became of it."""

    __tablename__ = "broadcast_recipient"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "contact_id"),
        Index("ix_broadcast_recipient_due", "broadcast_id", "status", "next_attempt_at"),
        # The frequency cap: "was this contact sent a broadcast since ...".
        Index("ix_broadcast_recipient_contact_sent", "contact_id", "sent_at"),
    )

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    # pending -> sending -> sent (-> delivered -> read) | failed | skipped | unknown | cancelled
    status: Mapped[str] = mapped_column(String(12), default="pending")
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_account.id", ondelete="SET NULL")
    )
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_identity.id", ondelete="SET NULL")
    )
    rule: Mapped[str | None] = mapped_column(String(80))  # what allowed or stopped the send
    reason: Mapped[str | None] = mapped_column(Text)
    rendered: Mapped[str | None] = mapped_column(Text)
    outbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_message.id", ondelete="SET NULL")
    )
    external_id: Mapped[str | None] = mapped_column(String(200))  # the platform's message id
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
