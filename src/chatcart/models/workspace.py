from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.models.base import Base, CreatedMixin, IdMixin


class Workspace(IdMixin, CreatedMixin, Base):
    __tablename__ = "workspace"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    locale: Mapped[str] = mapped_column(String(16), default="vi")
    # ISO region for phone numbers typed without a country code (VN, PH).
    default_region: Mapped[str] = mapped_column(String(2), default="VN")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Bumped by database triggers (migration 0012) whenever the workspace's flows, shop
    # settings or set of products change, from any process: what kit/config_cache keys on.
    config_rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
