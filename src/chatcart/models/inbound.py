from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.models.base import Base, IdMixin


class WebhookDelivery(IdMixin, Base):
    """Every accepted webhook POST as received, bytes untouched, stored before the 200: what
    the platform sent can be looked at (or replayed) whatever its items became."""

    __tablename__ = "webhook_delivery"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True
    )
    received_at: Mapped[datetime]
    body: Mapped[bytes] = mapped_column(LargeBinary)
    items: Mapped[int] = mapped_column(default=0)  # items recorded from it (new or redelivered)
    error: Mapped[str | None] = mapped_column(Text)  # signed yet unreadable: why


class InboundEvent(IdMixin, Base):
    """Every external input, recorded raw before it is processed (DESIGN.md §4.3)."""

    __tablename__ = "inbound_event"
    __table_args__ = (
        # Platform retries of the same event are no-ops.
        UniqueConstraint("channel_account_id", "external_id"),
        Index("ix_inbound_event_due", "status", "available_at"),
    )

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(String(200))
    # The platform's id of the sender, when the ingress knows it (lets the widget show
    # a visitor's own messages that are recorded but not yet processed).
    sender_external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    body: Mapped[str] = mapped_column(Text)  # the item as split from its POST (UTF-8)
    # The POST it came in (None for channels without webhooks, e.g. the widget).
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime]
    available_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
