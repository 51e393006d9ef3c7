from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.models.base import Base, CreatedMixin, IdMixin


class Conversation(IdMixin, CreatedMixin, Base):
    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("identity_id"),
        Index("ix_conversation_workspace_last", "workspace_id", "last_message_at"),
    )

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE")
    )
    identity_id: Mapped[int] = mapped_column(ForeignKey("contact_identity.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    # True while a human holds the conversation: the bot stays silent.
    bot_paused: Mapped[bool] = mapped_column(default=False)
    last_message_at: Mapped[datetime | None]
    last_message_preview: Mapped[str] = mapped_column(String(200), default="")


class Message(IdMixin, CreatedMixin, Base):
    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "external_id"),
        Index("ix_message_conversation_id_id", "conversation_id", "id"),
    )

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    sender: Mapped[str] = mapped_column(String(10))  # contact | bot | agent
    external_id: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    # The full MessageContent (attachments, buttons...) as JSON.
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Outgoing messages' delivery status lives on outbound_message (message_id points here).
