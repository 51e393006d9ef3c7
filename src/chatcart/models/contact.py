from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.models.base import Base, CreatedMixin, IdMixin


class Contact(IdMixin, CreatedMixin, Base):
    __tablename__ = "contact"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Where the first contact came from: {"channel": "webchat", "page_url": ...}.
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_interaction_at: Mapped[datetime | None]


class ContactIdentity(IdMixin, CreatedMixin, Base):
    """One person on one channel account (PSID, WhatsApp number, widget visitor...)."""

    __tablename__ = "contact_identity"
    __table_args__ = (UniqueConstraint("channel_account_id", "external_id"),)

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(String(200))
    # The clock of the platform's messaging window.
    last_inbound_at: Mapped[datetime | None]
    reachable: Mapped[bool] = mapped_column(default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(Text)
    # What the platform's profile API said, when it was asked.
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    profile_fetched_at: Mapped[datetime | None]
