from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.models.base import Base, CreatedMixin, IdMixin


class FlowRow(IdMixin, CreatedMixin, Base):
    """A bot flow of a workspace: its draft source and which version is published."""

    __tablename__ = "flow"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))  # the document's id
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | active | archived
    draft: Mapped[str] = mapped_column(Text)  # the YAML / JSON source as last saved
    published_number: Mapped[int | None]  # flow_version.number in use (None: never published)
    # Key of the HMAC that signs the flow's HTTP steps (encrypted with the secret box).
    signing_secret_encrypted: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlowVersion(IdMixin, CreatedMixin, Base):
    """One published version; never changed, so runs in progress can finish on it."""

    __tablename__ = "flow_version"
    __table_args__ = (UniqueConstraint("flow_id", "number"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    flow_id: Mapped[int] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"))
    number: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str | None] = mapped_column(String(200))


class FlowRun(IdMixin, Base):
    """Where one conversation is in a flow (at most one run per conversation). Runs with a
    wake_at are durable work: the flows loop claims them when it is due."""

    __tablename__ = "flow_run"
    __table_args__ = (
        UniqueConstraint("conversation_id"),
        Index("ix_flow_run_due", "status", "wake_at"),
    )

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    flow_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("flow_version.id", ondelete="CASCADE")
    )
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # timer: due at wake_at (a wait, or an HTTP call to make); idle: waits for the person.
    status: Mapped[str] = mapped_column(String(10), default="idle")
    turns: Mapped[int] = mapped_column(default=0)  # numbers the idempotency keys of sends
    wake_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
