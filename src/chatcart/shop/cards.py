"""Products as chat messages: carousels of cards, the cart, order lines."""

from __future__ import annotations

from chatcart.catalog.schemas import ProductCard
from chatcart.channels.base import Button, Card, MessageContent, QuickReply
from chatcart.shop.schemas import ChatState
from chatcart.shop.texts import money, say

MAX_CARDS = 10  # Messenger's generic template shows at most 10 elements
MAX_QUICK_REPLIES = 13


def absolute(url: str | None, public_url: str | None) -> str | None:
    """Uploaded images are served under /media/...; platforms need the full address."""
    if url and url.startswith("/") and public_url:
        return public_url.rstrip("/") + url
    return url


def price_range(card: ProductCard) -> str:
    if card.min_price is None:
        return ""
    low = money(card.min_price, card.currency)
    if card.max_price is not None and card.max_price != card.min_price:
        return f"{low} – {money(card.max_price, card.currency)}"
    return low


def carousel(
    cards: list[ProductCard], language: str, public_url: str | None, intro: str = ""
) -> MessageContent:
    return MessageContent(
        text=intro,
        cards=[
            Card(
                title=card.name[:80],
                subtitle=price_range(card)[:80] or None,
                image_url=absolute(card.image_url, public_url),
                buttons=[Button(title=say("select", language), payload=f"SHOP:P:{card.id}")],
            )
            for card in cards[:MAX_CARDS]
        ],
    )


def cart(state: ChatState, language: str) -> MessageContent:
    if not state.lines:
        return MessageContent(
            text=say("cart_empty", language),
            quick_replies=[QuickReply(title=say("more", language), payload="PRODUCTS")],
        )
    currency = state.lines[0].currency
    rows = [
        f"• {li.quantity} × {li.label} — {money(li.price * li.quantity, li.currency)}"
        for li in state.lines
    ]
    text = "\n".join(
        [
            say("cart", language),
            *rows,
            say("subtotal", language, amount=money(state.subtotal, currency)),
        ]
    )
    return MessageContent(
        text=text,
        quick_replies=[
            QuickReply(title=say("checkout", language), payload="SHOP:CHECKOUT"),
            QuickReply(title=say("more", language), payload="PRODUCTS"),
            QuickReply(title=say("edit", language), payload="SHOP:EDIT"),
        ],
    )


def edit(state: ChatState, language: str) -> MessageContent:
    return MessageContent(
        text=say("edit_which", language),
        quick_replies=[
            QuickReply(
                title=say("remove", language, item=li.label)[:20],
                payload=f"SHOP:RM:{li.variant_id}",
            )
            for li in state.lines[: MAX_QUICK_REPLIES - 1]
        ]
        + [QuickReply(title=say("cart", language).rstrip(":")[:20], payload="SHOP:CART")],
    )
