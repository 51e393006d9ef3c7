from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatcart.channels.base import AccountRef, MessageContent, SendError, SendResult
from chatcart.contacts.schemas import IdentityOut


@dataclass(slots=True)
class SendJob:
    """Everything one send needs, read before the network call (no transaction held).
    A plain dataclass: built from rows the dispatcher just read, nothing to validate."""

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
    content: MessageContent
    comment_created_at: datetime | None = None
    private_replies_sent: int = 0


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What became of one claimed send, for `service.record_outcomes`: sent or an error
    (`result`), not tried now (`defer_until`: not an attempt), or refused by policy
    (`blocked`: the rule and the reason). `retry_at`: when an error that is retried goes
    again, as the sender already counted on (its next messages wait until just after it);
    without one, after the backoff from the time of recording."""

    outbound_id: int
    started_at: datetime
    result: SendResult | SendError | None = None
    defer_until: datetime | None = None
    blocked: tuple[str, str] | None = None
    retry_at: datetime | None = None


@dataclass
class Handoff:
    """An inbound batch's replies, claimed for the worker that applies the batch as they are
    written, to be sent by it right after the commit: no claim, no wake-up, nothing read
    again. `identities`: their recipients as the batch left them (window clock, reachable).
    If the worker dies first, the claim expires and the outbox loop sends them."""

    worker_id: str
    lease_seconds: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    identities: dict[int, IdentityOut] = field(default_factory=dict)
