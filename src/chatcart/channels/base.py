"""The channel contract: DTOs, capabilities and the ChannelAdapter Protocol (DESIGN.md §4.2).

Adapters see only these plain objects — never ORM rows or sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

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
    title: str = Field(max_length=80)
    payload: str | None = None
    url: str | None = None


class MessageContent(BaseModel):
    text: str = ""
    attachments: list[Attachment] = Field(default_factory=list)
    quick_replies: list[QuickReply] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)


InboundKind = Literal["message", "postback", "referral", "optin", "delivery", "read", "echo"]


class InboundEvent(BaseModel):
    """One thing a person did on a channel, parsed from a recorded raw event."""

    kind: InboundKind = "message"
    external_id: str  # the platform's message / event id
    sender_id: str  # the person's id on this channel account
    timestamp: datetime
    content: MessageContent = Field(default_factory=MessageContent)
    payload: str | None = None  # quick-reply / postback payload
    referral: dict[str, Any] | None = None
    profile: dict[str, Any] = Field(default_factory=dict)  # name, locale... when the event has them


class AccountRef(BaseModel):
    """What an adapter needs to know of a channel account (decrypted at the boundary)."""

    id: int
    kind: str
    external_id: str
    credentials: dict[str, str] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)


class OutboundEnvelope(BaseModel):
    idempotency_key: str
    recipient_id: str
    content: MessageContent
    messaging_type: str = "RESPONSE"
    tag: str | None = None
    message_ref: int | None = None  # our conversation message id, when there is one
    conversation_ref: int | None = None


class SendResult(BaseModel):
    external_id: str
    response: dict[str, Any] = Field(default_factory=dict)


SendOutcome = Literal["retry", "failed", "policy", "unreachable", "reauth"]


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


class ChannelAdapter(Protocol):
    kind: str
    capabilities: Capabilities

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]: ...

    async def send(self, account: AccountRef, envelope: OutboundEnvelope) -> SendResult: ...
