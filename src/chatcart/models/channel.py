from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.models.base import Base, CreatedMixin, IdMixin


class ChannelAccount(IdMixin, CreatedMixin, Base):
    __tablename__ = "channel_account"
    __table_args__ = (UniqueConstraint("kind", "external_id"),)

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # webchat | messenger | instagram | ...
    name: Mapped[str] = mapped_column(String(200))
    # The platform's id for the account (Page id, phone number id, widget public key).
    external_id: Mapped[str] = mapped_column(String(200))
    # Tokens and app secrets, encrypted with kit.crypto.SecretBox (never plaintext).
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # active | reauth_required (the platform refused the token: reconnect in the admin)
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]
