"""The shop in chat: a conversation's cart and checkout, the seller's shop settings, and
payments made through a payment link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.models.base import Base, CreatedMixin, IdMixin


class ShopChat(IdMixin, Base):
    """Where one conversation is in the shop: its cart, and the checkout question it waits
    for (stage). JSON because its shape belongs to the shop room alone."""

    __tablename__ = "shop_chat"
    __table_args__ = (UniqueConstraint("conversation_id"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShopSetting(IdMixin, Base):
    """A workspace's shop rules: where customers open pay pages, the shipping fee rule and
    which payment methods are offered."""

    __tablename__ = "shop_setting"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    public_url: Mapped[str | None] = mapped_column(Text)
    shipping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payment_link: Mapped[bool] = mapped_column(default=True)
    # Encrypted (secret box): the key store webhooks (WooCommerce, Shopify) are signed with.
    store_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(IdMixin, CreatedMixin, Base):
    """A payment link for an order and what the provider said about it."""

    __tablename__ = "shop_payment"
    __table_args__ = (UniqueConstraint("token"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    token: Mapped[str] = mapped_column(String(64))  # the pay page's unguessable address
    amount: Mapped[int]  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | paid | failed
    reference: Mapped[str | None] = mapped_column(String(100))  # the provider's transaction
    paid_at: Mapped[datetime | None]
