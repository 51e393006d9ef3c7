"""Fit content to what a channel can show: buttons, extra quick replies, cards and receipts
become numbered text instead of a failed send (Rasa's output-channel fallback)."""

from __future__ import annotations

from chatcart.channels.base import Button, Capabilities, Card, MessageContent, Receipt
from chatcart.kit.money import format_minor


def _button_line(number: int, button: Button) -> str:
    target = button.url or button.phone_number
    return f"{number}. {button.title}" + (f" ({target})" if target else "")


def _card_lines(cards: list[Card]) -> list[str]:
    lines: list[str] = []
    for card in cards:
        head = f"• {card.title}" + (f" — {card.subtitle}" if card.subtitle else "")
        lines.append(head)
        if card.url:
            lines.append(f"  {card.url}")
    return lines


def receipt_text(receipt: Receipt) -> str:
    def money(amount: int) -> str:
        return format_minor(amount, receipt.currency)

    lines = [f"#{receipt.order_number} — {receipt.recipient_name}"]
    lines += [
        f"{item.quantity} × {item.title}: {money(item.price * item.quantity)}"
        for item in receipt.items
    ]
    if receipt.shipping_cost:
        lines.append(f"+ {money(receipt.shipping_cost)}")
    lines.append(f"= {money(receipt.total_cost)} ({receipt.payment_method})")
    return "\n".join(lines)


def degrade(content: MessageContent, caps: Capabilities) -> MessageContent:
    text = content.text
    lines: list[str] = []
    receipt = content.receipt
    if receipt is not None and not caps.receipt:
        lines.append(receipt_text(receipt))
        receipt = None
    cards = content.cards
    card_buttons: list[Button] = []
    if len(cards) > caps.cards:
        lines.extend(_card_lines(cards))
        card_buttons = [b for card in cards for b in card.buttons]
        cards = []
    buttons = content.buttons + card_buttons
    if len(buttons) > caps.buttons or card_buttons:
        lines.extend(_button_line(n, b) for n, b in enumerate(buttons, start=1))
        buttons = []
    quick = content.quick_replies
    if len(quick) > caps.quick_replies:
        offset = len([line for line in lines if line[:1].isdigit()])
        lines.extend(f"{offset + n}. {q.title}" for n, q in enumerate(quick, start=1))
        quick = []
    if lines:
        text = "\n".join([text, *lines]) if text else "\n".join(lines)
    attachments = content.attachments if caps.attachments else []
    links = "" if caps.attachments else "\n".join(a.url for a in content.attachments if a.url)
    # Cut the text, never the links, so the whole fits the channel's limit.
    room = caps.max_text_chars - (len(links) + 1 if links and text else len(links))
    if len(text) > room:
        text = text[: max(0, room - 1)] + "…" if room > 0 else ""
    if links:
        text = f"{text}\n{links}" if text else links
    # Links longer than the whole limit: a cut send beats one the platform rejects.
    text = text[: caps.max_text_chars]
    return MessageContent(
        text=text,
        attachments=attachments,
        quick_replies=quick,
        buttons=buttons,
        cards=cards,
        receipt=receipt,
    )
