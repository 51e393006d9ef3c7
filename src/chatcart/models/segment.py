from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.models.base import Base, CreatedMixin, IdMixin


class Segment(IdMixin, CreatedMixin, Base):
    """A saved audience: a filter (data, compiled to SQL by segments/) or a static list."""

    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="filter")  # filter | static
    filter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SegmentMember(Base):
    """The members of a static segment (an ID list)."""

    __tablename__ = "segment_member"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segment.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )
