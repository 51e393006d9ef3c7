"""The channel contract: DTOs, capabilities and the ChannelAdapter Protocol (DESIGN.md §4.2).

Adapters see only these plain objects — never ORM rows or sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

AttachmentKind = Literal["image", "video", "audio", "file", "location", "sticker"]


class Attachment(BaseModel):
    kind: AttachmentKind
    url: str | None = None
    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class QuickReply(BaseModel):
    title: str = Field(max_length=80)
    payload: str = Field(max_length=1000)


class Button(BaseModel):
    """Exactly one of payload (postback), url (web link) or phone_number (call)."""

    title: str = Field(max_length=80)
    payload: str | None = None
    url: str | None = None
    phone_number: str | None = None  # E.164


class Card(BaseModel):
    """One element of a carousel (Messenger generic template)."""

    title: str = Field(max_length=80)
    subtitle: str | None = Field(default=None, max_length=80)
    image_url: str | None = None
    url: str | None = None  # where tapping the card goes
    buttons: list[Button] = Field(default_factory=list, max_length=3)


class ReceiptItem(BaseModel):
    title: str
    subtitle: str | None = None
    quantity: int = 1
    price: int  # minor units of the receipt's currency (VND: đồng; PHP: centavos)
    image_url: str | None = None


class Receipt(BaseModel):
    """An order summary (Messenger receipt template; text elsewhere)."""

    recipient_name: str
    order_number: str
    currency: str  # ISO 4217
    payment_method: str
    items: list[ReceiptItem]
    subtotal: int  # all amounts in minor units
    shipping_cost: int = 0
    total_tax: int = 0
    total_cost: int
    address: dict[str, str] | None = None  # street_1, city, state, postal_code, country
    timestamp: datetime | None = None


class MessageContent(BaseModel):
    text: str = ""
    attachments: list[Attachment] = Field(default_factory=list)
    quick_replies: list[QuickReply] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    cards: list[Card] = Field(default_factory=list)
    receipt: Receipt | None = None


InboundKind = Literal[
    "message",  # a person wrote (text, attachments, quick-reply tap, story reply)
    "postback",  # a button / Get Started / persistent-menu tap
    "referral",  # m.me ref link or ad into an existing thread
    "optin",  # plugin opt-in or marketing-messages opt-in (token)
    "delivery",  # receipts: everything up to `watermark` delivered
    "read",  # receipts: everything up to `watermark` read
    "echo",  # a message the Page sent (by us, or by a human in the Page inbox)
    "comment",  # a comment on a post (Page feed, Instagram media)
    "story_mention",  # Instagram: the person mentioned the account in a story
]


class CommentRef(BaseModel):
    comment_id: str
    post_id: str | None = None  # Page post id or Instagram media id
    parent_id: str | None = None
    text: str = ""
    from_id: str  # on Page feeds this is NOT a PSID
    from_name: str | None = None
    verb: str = "add"  # add | edited | remove | hide | unhide
    created_at: datetime
    media_product_type: str | None = None  # Instagram: FEED | REELS | STORY | AD


class OptinRef(BaseModel):
    type: str  # notification_messages | one_time_notif_req | plugin
    payload: str | None = None
    token: str | None = None  # notification_messages_token
    frequency: str | None = None  # DAILY | WEEKLY | MONTHLY
    expires_at: datetime | None = None
    token_status: str | None = None  # REFRESHED | NOT_REFRESHED
    status: str | None = None  # notification_messages_status: e.g. STOP_NOTIFICATIONS
    title: str | None = None
    timezone: str | None = None
    ref: str | None = None  # plugin data-ref
    user_ref: str | None = None


class InboundEvent(BaseModel):
    """One thing a person (or the Page) did on a channel, parsed from a recorded raw event."""

    kind: InboundKind = "message"
    external_id: str  # the platform's message / event id
    sender_id: str  # the person's id on this channel account (for echoes: the recipient)
    timestamp: datetime
    content: MessageContent = Field(default_factory=MessageContent)
    payload: str | None = None  # quick-reply / postback payload
    referral: dict[str, Any] | None = None  # {"ref", "source", "type", "ad_id", ...}
    profile: dict[str, Any] = Field(default_factory=dict)  # name, locale... when the event has them
    reply_to: dict[str, Any] | None = None  # {"mid": ...} or {"story": {"id", "url"}}
    comment: CommentRef | None = None
    optin: OptinRef | None = None
    watermark: datetime | None = None  # delivery / read
    mids: list[str] = Field(default_factory=list)  # delivery: the delivered message ids
    app_id: str | None = None  # echo: the app that sent it
    metadata: str | None = None  # echo: what the sender attached (ours: the idempotency key)
    # Came on `standby`: another app (a Page inbox, a handover receiver) owns the thread, so
    # the event is recorded but never answered.
    standby: bool = False


class AccountRef(BaseModel):
    """What an adapter needs to know of a channel account (decrypted at the boundary)."""

    id: int
    kind: str
    external_id: str
    credentials: dict[str, str] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)


RecipientKind = Literal["id", "comment_id", "post_id", "notification_messages_token", "user_ref"]
SenderAction = Literal["typing_on", "typing_off", "mark_seen"]


class OutboundEnvelope(BaseModel):
    idempotency_key: str
    recipient_id: str
    recipient_kind: RecipientKind = "id"
    content: MessageContent = Field(default_factory=MessageContent)
    messaging_type: str = "RESPONSE"  # RESPONSE | UPDATE | MESSAGE_TAG (chosen by policy/)
    tag: str | None = None  # chosen by policy/, never by an adapter
    sender_action: SenderAction | None = None  # sent instead of content when set
    message_ref: int | None = None  # our conversation message id, when there is one
    conversation_ref: int | None = None


class SendResult(BaseModel):
    external_id: str
    response: dict[str, Any] = Field(default_factory=dict)


# "unknown": the request may or may not have reached the person (a batch lost on the way
# back); the owner must not send it again on its own.
SendOutcome = Literal["retry", "failed", "policy", "unreachable", "reauth", "unknown"]


class SendError(Exception):
    """A send the platform did not take; outcome tells the outbox what to do next."""

    def __init__(
        self,
        outcome: SendOutcome,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        response: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.outcome = outcome
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.response = response or {}


class ParseError(ValueError):
    """A recorded event that this adapter cannot read; kept and reported, never dropped."""


@dataclass(frozen=True)
class Capabilities:
    max_text_chars: int
    quick_replies: int  # how many; 0 = none
    buttons: int
    attachments: bool
    cards: int = 0  # carousel elements; 0 = cards become text
    receipt: bool = False  # a native order-summary template
    # typing_on / typing_off / mark_seen around bot replies (Messenger's sender actions)
    sender_actions: bool = False


class ChannelAdapter(Protocol):
    kind: str
    capabilities: Capabilities

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]: ...

    async def send(self, account: AccountRef, envelope: OutboundEnvelope) -> SendResult: ...

    async def profile(self, account: AccountRef, user_id: str) -> dict[str, Any]:
        """What the platform tells of a person: {"first_name", "last_name", "name",
        "profile_pic", "locale", "timezone"} as far as granted; {} when nothing is."""
        ...


@runtime_checkable
class BatchSender(Protocol):
    """An adapter that can send many messages of one account in one request (Graph batch
    requests). Adapters without it are sent to one message at a time."""

    max_batch: int

    async def send_many(
        self, account: AccountRef, envelopes: Sequence[OutboundEnvelope]
    ) -> list[SendResult | SendError]:
        """One outcome per envelope, in order; never raises for one message's failure. A
        request lost on the way (connection, timeout, 5xx) gives SendError("unknown") for
        each of its messages: maybe delivered, never to be resent blindly."""
        ...


def batch_sender(adapter: ChannelAdapter | None) -> BatchSender | None:
    return adapter if isinstance(adapter, BatchSender) else None
