"""Orders: what a customer bought, at which price, where it goes, and its status history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.models.base import Base, CreatedMixin, IdMixin


class Order(IdMixin, CreatedMixin, Base):
    __tablename__ = "shop_order"  # "order" is an SQL keyword
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_shop_order_listing", "workspace_id", "status", "created_at"),
        Index("ix_shop_order_reserved", "status", "reserved_until"),
    )

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    number: Mapped[int]  # per shop, from 1001: what the customer and the seller say
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="SET NULL")
    )
    # pending | confirmed | packed | shipped | delivered | cancelled | returned
    status: Mapped[str] = mapped_column(String(12), default="pending")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int]  # minor units
    shipping_fee: Mapped[int] = mapped_column(default=0)
    total: Mapped[int]
    customer_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    address: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    payment_method: Mapped[str] = mapped_column(String(12), default="cod")  # cod | link
    payment_status: Mapped[str] = mapped_column(String(12), default="unpaid")
    tracking_code: Mapped[str | None] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(Text)
    # A pending order holds its stock until then; past it, the stock goes back on sale.
    reserved_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderItem(IdMixin, Base):
    """A line of an order, with the product as it was when bought (names and price)."""

    __tablename__ = "shop_order_item"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_variant.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(300))
    variant_title: Mapped[str] = mapped_column(String(300), default="")
    sku: Mapped[str | None] = mapped_column(String(100))
    unit_price: Mapped[int]
    quantity: Mapped[int]
    line_total: Mapped[int]
    # Whether this line took stock (tracked variants only): what a cancel gives back.
    reserved: Mapped[bool] = mapped_column(default=False)


class OrderEvent(IdMixin, Base):
    """One status change: the order's history, for the seller and for the notifications."""

    __tablename__ = "shop_order_event"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
