"""Checkout input and order output."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from chatcart.kit.money import format_minor
from chatcart.kit.textnorm import nfc

OrderStatus = Literal[
    "pending", "confirmed", "packed", "shipped", "delivered", "cancelled", "returned"
]
PaymentMethod = Literal["cod", "link"]
STATUSES: tuple[OrderStatus, ...] = (
    "pending", "confirmed", "packed", "shipped", "delivered", "cancelled", "returned",
)  # fmt: skip
# Where each status may go next. Cancelling gives the stock back; so does a return.
NEXT: dict[str, tuple[OrderStatus, ...]] = {
    "pending": ("confirmed", "cancelled"),
    "confirmed": ("packed", "cancelled"),
    "packed": ("shipped", "cancelled"),
    "shipped": ("delivered", "returned"),
    "delivered": ("returned",),
    "cancelled": (),
    "returned": (),
}


class CheckoutLine(BaseModel):
    variant_id: int
    quantity: int = Field(ge=1, le=999)
    # The unit price the customer was shown; a different price now stops the checkout.
    seen_price: int | None = Field(default=None, ge=0)


class Checkout(BaseModel):
    lines: list[CheckoutLine] = Field(min_length=1, max_length=100)
    customer_name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=40)
    address: str = Field(min_length=5, max_length=1000)
    note: str = Field(default="", max_length=2000)
    payment_method: PaymentMethod = "cod"
    shipping_fee: int = Field(default=0, ge=0)
    contact_id: int | None = None
    conversation_id: int | None = None

    @field_validator("customer_name", "address", "note")
    @classmethod
    def _text(cls, value: str) -> str:
        return nfc(value.strip())


class LineProblem(BaseModel):
    variant_id: int
    name: str
    wanted: int
    available: int | None = None
    seen_price: int | None = None
    price: int | None = None


class OrderItemOut(BaseModel):
    id: int
    product_id: int | None
    variant_id: int | None
    name: str
    variant_title: str
    sku: str | None
    unit_price: int
    quantity: int
    line_total: int


class OrderEventOut(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    note: str
    at: datetime


class OrderOut(BaseModel):
    id: int
    number: int
    status: OrderStatus
    currency: str
    subtotal: int
    shipping_fee: int
    total: int
    customer_name: str
    phone: str
    address: str
    note: str
    payment_method: PaymentMethod
    payment_status: str
    tracking_code: str | None
    tracking_url: str | None
    contact_id: int | None
    conversation_id: int | None
    reserved_until: datetime | None
    created_at: datetime
    updated_at: datetime
    items: list[OrderItemOut] = Field(default_factory=list)
    events: list[OrderEventOut] = Field(default_factory=list)

    def money(self, amount: int, locale: str | None = None) -> str:
        return format_minor(amount, self.currency, locale)

    @property
    def next_statuses(self) -> tuple[OrderStatus, ...]:
        return NEXT[self.status]


class StatusChanged(BaseModel):
    """What a status change tells the rest (the customer's notification goes through
    policy/ from here): the order, the change, and where to say it."""

    order: OrderOut
    from_status: OrderStatus
    to_status: OrderStatus
    workspace_id: int | None = None
