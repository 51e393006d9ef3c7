"""OutboundEnvelope -> Send API request bodies (platforms.md §2.1, §2.6, §3).

Meta takes exactly one of `text` / `attachment` per message, so one MessageContent may need
several calls. The rule, in order:

1. buttons: one button template that carries the text (≤640 chars; a longer text is split at
   a line or word break, the head sent first as a plain text message);
   otherwise the text, when there is any, is a plain text message of its own;
2. then one message per attachment (media by URL, `is_reusable`);
3. then the cards as a generic template (≤10 elements per message);
4. then the receipt template;
5. quick replies ride on the last message (Messenger shows them for the latest one only);
6. every message carries `metadata` = the envelope's idempotency key, so echoes match sends.

One-shot recipients (a comment / post private reply, a notification_messages token) take one
message only: content that needs more is refused before anything is sent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chatcart.channels.base import (
    Attachment,
    Button,
    Card,
    MessageContent,
    OutboundEnvelope,
    Receipt,
    SendError,
)
from chatcart.kit.money import digits, to_major

BUTTON_TEXT_LIMIT = 640
GENERIC_ELEMENTS_LIMIT = 10
QUICK_REPLIES_LIMIT = 13
METADATA_LIMIT = 1000
ONE_SHOT_RECIPIENTS = frozenset({"comment_id", "post_id", "notification_messages_token"})


def content_error(reason: str, message: str) -> SendError:
    return SendError("failed", f"content/{reason}", message)


def send_bodies(envelope: OutboundEnvelope) -> list[dict[str, Any]]:
    """The request bodies, in the order they must be sent."""
    recipient = {envelope.recipient_kind: envelope.recipient_id}
    if envelope.sender_action is not None:
        return [{"recipient": recipient, "sender_action": envelope.sender_action}]
    messages = message_parts(envelope.content, envelope.idempotency_key)
    if len(messages) > 1 and envelope.recipient_kind in ONE_SHOT_RECIPIENTS:
        raise content_error(
            "one_message_only",
            f"a {envelope.recipient_kind} recipient takes one message; this content needs "
            f"{len(messages)}",
        )
    bodies: list[dict[str, Any]] = []
    for message in messages:
        body: dict[str, Any] = {"recipient": recipient, "messaging_type": envelope.messaging_type}
        if envelope.tag:
            body["tag"] = envelope.tag
        body["message"] = message
        bodies.append(body)
    return bodies


def message_parts(content: MessageContent, metadata: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    text = content.text.strip()
    if content.buttons:
        if not text:
            raise content_error("button_text", "a button template needs text")
        head, tail = split_tail(text, BUTTON_TEXT_LIMIT)
        if head:
            parts.append({"text": head})
        parts.append(
            _template(
                {"template_type": "button", "text": tail, "buttons": _buttons(content.buttons)}
            )
        )
    elif text:
        parts.append({"text": text})
    parts.extend(_attachment(attachment) for attachment in content.attachments)
    for start in range(0, len(content.cards), GENERIC_ELEMENTS_LIMIT):
        chunk = content.cards[start : start + GENERIC_ELEMENTS_LIMIT]
        parts.append(
            _template({"template_type": "generic", "elements": [_element(c) for c in chunk]})
        )
    if content.receipt is not None:
        parts.append(_template(receipt_payload(content.receipt)))
    if not parts:
        raise content_error("empty", "nothing to send: no text, attachment or template")
    if content.quick_replies:
        parts[-1]["quick_replies"] = [
            {"content_type": "text", "title": q.title, "payload": q.payload}
            for q in content.quick_replies[:QUICK_REPLIES_LIMIT]
        ]
    for part in parts:
        part["metadata"] = metadata[:METADATA_LIMIT]
    return parts


def split_tail(text: str, limit: int) -> tuple[str, str]:
    """(head, tail) with the longest tail ≤ limit that starts after a line break, else after
    a space, else mid-word."""
    if len(text) <= limit:
        return "", text
    start = len(text) - limit
    cut = text.find("\n", start)
    if cut == -1:
        cut = text.find(" ", start)
    if cut == -1:
        return text[:start].rstrip(), text[start:]
    return text[:cut].rstrip(), text[cut + 1 :].strip() or text[start:]


def _template(payload: dict[str, Any]) -> dict[str, Any]:
    return {"attachment": {"type": "template", "payload": payload}}


def _buttons(buttons: list[Button]) -> list[dict[str, Any]]:
    return [button_json(button) for button in buttons]


def button_json(button: Button) -> dict[str, Any]:
    if button.payload is not None:
        return {"type": "postback", "title": button.title, "payload": button.payload}
    if button.url is not None:
        return {"type": "web_url", "title": button.title, "url": button.url}
    if button.phone_number is not None:
        return {"type": "phone_number", "title": button.title, "payload": button.phone_number}
    raise content_error("button", f"button {button.title!r} has no payload, url or phone number")


def _attachment(attachment: Attachment) -> dict[str, Any]:
    if attachment.kind == "location":
        # The Send API has no outbound location: a map link the person can open.
        if attachment.latitude is None or attachment.longitude is None:
            raise content_error("location", "a location attachment needs coordinates")
        link = f"https://maps.google.com/?q={attachment.latitude},{attachment.longitude}"
        return {"text": f"{attachment.name}\n{link}" if attachment.name else link}
    if not attachment.url:
        raise content_error("attachment_url", f"the {attachment.kind} attachment has no URL")
    kind = "image" if attachment.kind == "sticker" else attachment.kind
    return {"attachment": {"type": kind, "payload": {"url": attachment.url, "is_reusable": True}}}


def _element(card: Card) -> dict[str, Any]:
    element: dict[str, Any] = {"title": card.title}
    if card.subtitle:
        element["subtitle"] = card.subtitle
    if card.image_url:
        element["image_url"] = card.image_url
    if card.url:
        element["default_action"] = {"type": "web_url", "url": card.url}
    if card.buttons:
        element["buttons"] = _buttons(card.buttons)
    return element


def major(amount: int, currency: str) -> int | float:
    """Minor units -> the number Meta reads: VND 150000 -> 150000, PHP 125000 -> 1250.0."""
    value: Decimal = to_major(amount, currency)
    return int(value) if digits(currency) == 0 else float(value)


def receipt_payload(receipt: Receipt) -> dict[str, Any]:
    currency = receipt.currency.upper()
    payload: dict[str, Any] = {
        "template_type": "receipt",
        "recipient_name": receipt.recipient_name,
        "order_number": receipt.order_number,
        "currency": currency,
        "payment_method": receipt.payment_method,
        "summary": {
            "subtotal": major(receipt.subtotal, currency),
            "shipping_cost": major(receipt.shipping_cost, currency),
            "total_tax": major(receipt.total_tax, currency),
            "total_cost": major(receipt.total_cost, currency),
        },
        "elements": [],
    }
    for item in receipt.items:
        # Meta's own sample prices an element for its whole line (2 shirts: 50, subtotal
        # 75 with a 25 shirt), so the element price is unit price × quantity.
        element: dict[str, Any] = {
            "title": item.title,
            "quantity": item.quantity,
            "price": major(item.price * item.quantity, currency),
            "currency": currency,
        }
        if item.subtitle:
            element["subtitle"] = item.subtitle
        if item.image_url:
            element["image_url"] = item.image_url
        payload["elements"].append(element)
    if receipt.address:
        payload["address"] = dict(receipt.address)
    if receipt.timestamp is not None:
        payload["timestamp"] = str(int(receipt.timestamp.timestamp()))  # seconds, as a string
    return payload
