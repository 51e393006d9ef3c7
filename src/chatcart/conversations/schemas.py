from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chatcart.channels.base import AccountRef, InboundEvent

# Purposes whose messages, when policy held them, still matter once the person writes
# again: order news and a booking the shop cancelled.
RESENT_PURPOSES = ("order_update", "event_reminder")


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    direction: str  # in | out
    sender: str  # contact | bot | agent
    external_id: str | None
    text: str
    content: dict[str, Any]
    status: str  # received (inbound) | queued | sent | delivered | read | failed
    error: str | None = None
    created_at: datetime


class ConversationOut(BaseModel):
    id: int
    workspace_id: int
    contact_id: int
    contact_name: str
    channel_account_id: int
    channel: str
    status: str
    bot_paused: bool
    last_message_at: datetime | None
    last_message_preview: str
    created_at: datetime


@dataclass
class Prepared:
    """A claimed raw event, parsed, with the profiles of its new senders fetched."""

    event_id: int
    workspace_id: int
    account: AccountRef
    events: list[InboundEvent]
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
