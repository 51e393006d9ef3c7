"""What the shop room takes and keeps: where a chat happens, its cart and checkout stage,
the seller's shop rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Stage = Literal["quantity", "name", "phone", "address", "payment", "confirm"]
ShopOp = Literal[
    "categories", "search", "cart", "checkout", "my_orders", "reorder", "recommend", "quiz"
]


class ChatPlace(BaseModel):
    """The conversation a shop answer goes to (the conversations room fills it)."""

    workspace_id: int
    conversation_id: int
    contact_id: int
    channel: str  # the channel kind: messenger, webchat...
    region: str = "VN"  # phone numbers typed without a country code
    language: str = "vi"  # vi | en: the customer's
    # False: a guess from nothing (a tap, a number): the language the chat had stays.
    language_sure: bool = True
    contact_name: str = ""


class CartLine(BaseModel):
    variant_id: int
    product_id: int
    quantity: int = Field(ge=1, le=999)
    price: int  # the unit price the customer was shown (minor units)
    currency: str
    name: str
    title: str = ""  # the variant: "M / Trắng"
    image_url: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.title})" if self.title else self.name


class ChatState(BaseModel):
    """A conversation's cart and where its checkout stands; JSON on its shop_chat row."""

    lines: list[CartLine] = Field(default_factory=list)
    stage: Stage | None = None
    pending_variant: int | None = None  # the variant a quantity is asked for
    name: str = ""
    phone: str = ""
    address: str = ""
    payment: Literal["cod", "link"] = "cod"
    retries: int = 0
    language: str | None = None  # the last one the customer was known to write in

    def line(self, variant_id: int) -> CartLine | None:
        return next((li for li in self.lines if li.variant_id == variant_id), None)

    @property
    def subtotal(self) -> int:
        return sum(li.price * li.quantity for li in self.lines)


class ShippingRule(BaseModel):
    """The fee: free above an amount, else the fee of the province named in the address,
    else the flat fee (all minor units)."""

    flat: int = Field(default=30000, ge=0)
    free_above: int | None = Field(default=500000, ge=0)
    provinces: dict[str, int] = Field(default_factory=dict)


class ShopSettingsOut(BaseModel):
    public_url: str | None
    shipping: ShippingRule
    payment_link: bool
