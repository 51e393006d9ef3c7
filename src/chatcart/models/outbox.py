from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.models.base import Base, CreatedMixin, IdMixin


class OutboundMessage(IdMixin, CreatedMixin, Base):
    """Every external output: idempotency key, status machine, a row per attempt."""

    __tablename__ = "outbound_message"
    __table_args__ = (Index("ix_outbound_message_due", "status", "next_attempt_at"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_identity.id", ondelete="CASCADE")
    )
    # Whom the platform is asked to deliver to: the identity ("id"), or a comment for a
    # private reply ("comment_id"), or a marketing opt-in token.
    recipient_kind: Mapped[str] = mapped_column(String(40), default="id")
    recipient_external_id: Mapped[str | None] = mapped_column(String(200))
    written_by: Mapped[str] = mapped_column(String(10), default="bot")  # bot | human
    # The conversation message this send delivers, if it belongs to a conversation.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(30), default="reply")
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # queued -> sending -> sent -> delivered -> read; or failed / cancelled
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]


class DeliveryAttempt(IdMixin, Base):
    __tablename__ = "delivery_attempt"

    outbound_message_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_message.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(12))  # sent | retry | failed
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    response: Mapped[dict[str, Any] | None]
