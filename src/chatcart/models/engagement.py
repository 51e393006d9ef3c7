"""What people did around the conversation: comments on posts, marketing opt-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.models.base import Base, IdMixin


class PostComment(IdMixin, Base):
    """A comment on a Page post or Instagram media (the private-reply target)."""

    __tablename__ = "post_comment"
    __table_args__ = (UniqueConstraint("channel_account_id", "comment_id"),)

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE")
    )
    comment_id: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[str | None] = mapped_column(String(200), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(200))
    from_id: Mapped[str] = mapped_column(String(200))  # not a PSID on Page feeds
    from_name: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="visible")  # visible|hidden|removed
    commented_at: Mapped[datetime]
    received_at: Mapped[datetime]
    private_reply_outbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_message.id", ondelete="SET NULL")
    )


class OptinToken(IdMixin, Base):
    """A marketing-messages opt-in (Messenger notification_messages token) for one person."""

    __tablename__ = "optin_token"
    __table_args__ = (UniqueConstraint("identity_id", "topic"),)

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE")
    )
    identity_id: Mapped[int] = mapped_column(ForeignKey("contact_identity.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(200), default="")  # the opt-in request's title
    token_encrypted: Mapped[str] = mapped_column(Text)  # lets us message the person: a secret
    frequency: Mapped[str | None] = mapped_column(String(10))  # DAILY | WEEKLY | MONTHLY
    timezone: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | stopped
    expires_at: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
