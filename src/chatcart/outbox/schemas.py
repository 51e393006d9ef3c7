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
    written_by: str  # bot | human
    attempt: int
    account: AccountRef
    account_status: str  # active | reauth_required
    recipient_id: str
    recipient_kind: str  # id | comment_id | notification_messages_token
    reachable: bool
    last_inbound_at: datetime | None
    comment_created_at: datetime | None = None
    private_replies_sent: int = 0
    content: MessageContent
