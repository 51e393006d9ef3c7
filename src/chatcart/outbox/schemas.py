from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from chatcart.channels.base import AccountRef, MessageContent


class SendJob(BaseModel):
    """Everything one send needs, read before the network call (no transaction held)."""

    outbound_id: int
    workspace_id: int
    conversation_id: int | None
    message_id: int | None
    idempotency_key: str
    purpose: str
    attempt: int
    account: AccountRef
    recipient_id: str
    last_inbound_at: datetime | None
    content: MessageContent
