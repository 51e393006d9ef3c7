"""Webchat adapter: recorded widget frames -> DTOs; sends are pushed to the visitor's socket
through the bus (the socket may live in another process)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from chatcart.channels.base import (
    AccountRef,
    Capabilities,
    InboundEvent,
    MessageContent,
    OutboundEnvelope,
    ParseError,
    SendResult,
)
from chatcart.channels.webchat.frames import WidgetBody
from chatcart.kit.clock import utcnow
from chatcart.kit.pubsub import Bus


def visitor_topic(account_id: int, visitor_id: str) -> str:
    return f"webchat:{account_id}:{visitor_id}"


class WebchatAdapter:
    kind = "webchat"

    def __init__(self, bus: Bus, max_text_chars: int) -> None:
        self._bus = bus
        self.capabilities = Capabilities(
            max_text_chars=max_text_chars, quick_replies=13, buttons=3, attachments=True, cards=10
        )

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]:
        try:
            data = WidgetBody.model_validate_json(body)
        except ValidationError as exc:
            raise ParseError(f"not a widget message: {exc.errors()[0]['msg']}") from exc
        referral = {"source": "WIDGET", "page_url": data.page_url} if data.page_url else None
        profile = {"locale": data.locale} if data.locale else {}
        return [
            InboundEvent(
                kind="message",
                external_id=data.client_id,
                sender_id=data.visitor_id,
                timestamp=datetime.fromisoformat(data.sent_at),
                content=MessageContent(text=data.text),
                payload=data.payload,
                referral=referral,
                profile=profile,
            )
        ]

    async def profile(self, account: AccountRef, user_id: str) -> dict[str, Any]:
        return {}  # anonymous visitors: what we know came with their messages

    async def send(self, account: AccountRef, envelope: OutboundEnvelope) -> SendResult:
        external_id = f"wc-{envelope.message_ref or envelope.idempotency_key}"
        await self._bus.publish(
            visitor_topic(account.id, envelope.recipient_id),
            {
                "type": "message",
                "message": {
                    "id": envelope.message_ref,
                    "direction": "out",
                    "text": envelope.content.text,
                    "quick_replies": [q.model_dump() for q in envelope.content.quick_replies],
                    "buttons": [b.model_dump() for b in envelope.content.buttons],
                    "cards": [c.model_dump() for c in envelope.content.cards],
                    "attachments": [a.model_dump() for a in envelope.content.attachments],
                    "created_at": utcnow().isoformat(),
                },
            },
        )
        return SendResult(external_id=external_id)
