"""Checkout in chat: name, phone, address, payment, the summary with the cart checked
again (prices and stock, told before confirming), then the order."""

from __future__ import annotations

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.catalog import service as catalog
from chatcart.channels.base import Button, MessageContent, QuickReply, Receipt, ReceiptItem
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import normalise_phone
from chatcart.kit.textnorm import fold
from chatcart.orders import service as orders
from chatcart.orders.errors import CheckoutInvalid, NotForSale, OutOfStock, PriceChanged
from chatcart.orders.schemas import Checkout, CheckoutLine, OrderOut
from chatcart.shop import cards, payments
from chatcart.shop.address import receipt_address
from chatcart.shop.recommend import also_like
from chatcart.shop.schemas import ChatPlace, ChatState, ShippingRule, ShopSettingsOut
from chatcart.shop.texts import PHONE_EXAMPLES, money, say

_PHONE_REGIONS = {"VN", "PH"}


def shipping_fee(rule: ShippingRule, subtotal: int, address: str) -> int:
    if rule.free_above is not None and subtotal >= rule.free_above:
        return 0
    folded = fold(address)
    for province, fee in rule.provinces.items():
        if fold(province) and fold(province) in folded:
            return fee
    return rule.flat


def start(state: ChatState, place: ChatPlace) -> list[MessageContent]:
    if not state.lines:
        return [cards.cart(state, place.language)]
    state.stage = "name"
    state.retries = 0
    replies = []
    if place.contact_name:
        replies = [QuickReply(title=place.contact_name[:20], payload="SHOP:NAME")]
    return [MessageContent(text=say("ask_name", place.language), quick_replies=replies)]


async def answer(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    state: ChatState,
    text: str,
    payload: str | None,
) -> list[MessageContent]:
    """The customer's answer to the checkout question the state waits for."""
    language = place.language
    if payload == "SHOP:NAME":
        text = place.contact_name
    if state.stage == "name":
        if not text.strip():
            return [MessageContent(text=say("ask_name", language))]
        state.name = text.strip()[:200]
        state.stage = "phone"
        return [MessageContent(text=say("ask_phone", language))]
    if state.stage == "phone":
        found = normalise_phone(text, place.region)
        if found is None or not found.valid or not _local(found.value):
            example = PHONE_EXAMPLES.get(place.region, PHONE_EXAMPLES["VN"])
            return [MessageContent(text=say("bad_phone", language, example=example))]
        state.phone = found.value
        state.stage = "address"
        return [MessageContent(text=say("ask_address", language))]
    if state.stage == "address":
        if len(text.strip()) < 8:
            return [MessageContent(text=say("short_address", language))]
        state.address = text.strip()[:1000]
        if settings.payment_link and settings.public_url:
            state.stage = "payment"
            return [
                MessageContent(
                    text=say("ask_payment", language),
                    quick_replies=[
                        QuickReply(title=say("cod", language)[:20], payload="SHOP:PAY:cod"),
                        QuickReply(title=say("link", language)[:20], payload="SHOP:PAY:link"),
                    ],
                )
            ]
        state.payment = "cod"
        return await review(session, place, settings, state)
    if state.stage == "payment":
        if payload in ("SHOP:PAY:cod", "SHOP:PAY:link"):
            state.payment = "link" if payload.endswith("link") else "cod"
        elif fold(text) in {fold(say("link", language)), "link", "online", "chuyen khoan"}:
            state.payment = "link"
        else:
            state.payment = "cod"
        return await review(session, place, settings, state)
    if state.stage == "confirm":
        return await review(session, place, settings, state)
    return []


def _local(e164: str) -> bool:
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) in _PHONE_REGIONS


async def refresh(session: AsyncSession, place: ChatPlace, state: ChatState) -> list[str]:
    """Check the cart against the catalog now: changed prices are taken (and said), sold
    out lines removed, quantities cut to what is left. Returns what the customer is told."""
    language = place.language
    variants = await catalog.variants_for_sale(
        session, place.workspace_id, [li.variant_id for li in state.lines]
    )
    notes: list[str] = []
    kept = []
    for line in state.lines:
        now = variants.get(line.variant_id)
        if now is None or now.status != "active" or (now.stock is not None and now.stock <= 0):
            notes.append(say("gone", language, item=line.label))
            continue
        if now.price != line.price:
            notes.append(
                say(
                    "price_changed",
                    language,
                    item=line.label,
                    old=money(line.price, line.currency),
                    new=money(now.price, now.currency),
                )
            )
            line.price = now.price
        if now.stock is not None and now.stock < line.quantity:
            line.quantity = now.stock
            notes.append(say("fewer", language, item=line.label, n=now.stock))
        kept.append(line)
    state.lines = kept
    return notes


async def review(
    session: AsyncSession, place: ChatPlace, settings: ShopSettingsOut, state: ChatState
) -> list[MessageContent]:
    """The summary to confirm, after telling what changed in the cart since it was shown."""
    language = place.language
    notes = await refresh(session, place, state)
    out = [MessageContent(text=note) for note in notes]
    if not state.lines:
        state.stage = None
        return [*out, cards.cart(state, language)]
    state.stage = "confirm"
    currency = state.lines[0].currency
    fee = shipping_fee(settings.shipping, state.subtotal, state.address)
    payment = say(state.payment, language)
    rows = "\n".join(
        f"• {li.quantity} × {li.label} — {money(li.price * li.quantity, currency)}"
        for li in state.lines
    )
    text = say(
        "summary",
        language,
        lines=rows,
        subtotal=money(state.subtotal, currency),
        shipping=money(fee, currency) if fee else say("free", language),
        total=money(state.subtotal + fee, currency),
        name=state.name,
        phone=state.phone,
        address=state.address,
        payment=payment,
    )
    receipt = Receipt(
        recipient_name=state.name,
        order_number="—",
        currency=currency,
        payment_method=payment,
        items=[
            ReceiptItem(
                title=li.name,
                subtitle=li.title or None,
                quantity=li.quantity,
                price=li.price,
                image_url=cards.absolute(li.image_url, settings.public_url),
            )
            for li in state.lines
        ],
        subtotal=state.subtotal,
        shipping_cost=fee,
        total_cost=state.subtotal + fee,
        address=receipt_address(state.address, place.region),
    )
    # Messenger shows the receipt template; other channels get the same summary as text.
    summary = (
        MessageContent(receipt=receipt)
        if place.channel == "messenger"
        else MessageContent(text=text)
    )
    asked = say("confirm_question", language)
    if summary.receipt is not None and summary.receipt.address is None:
        # The receipt could not carry the address (no postal code): say where it goes.
        asked = say("ship_to", language, address=state.address) + "\n" + asked
    question = MessageContent(
        text=asked,
        quick_replies=[
            QuickReply(title=say("confirm", language), payload="SHOP:CONFIRM"),
            QuickReply(title=say("edit", language), payload="SHOP:EDIT"),
            QuickReply(title=say("cancel", language), payload="SHOP:CANCEL"),
        ],
    )
    return [*out, summary, question]


async def confirm(
    session: AsyncSession, place: ChatPlace, settings: ShopSettingsOut, state: ChatState
) -> list[MessageContent]:
    """Place the order. A price or stock change found now goes back to the summary (the
    customer confirms again what they will really get)."""
    language = place.language
    if state.stage != "confirm" or not state.lines:
        return [cards.cart(state, language)]
    fee = shipping_fee(settings.shipping, state.subtotal, state.address)
    checkout = Checkout(
        lines=[
            CheckoutLine(variant_id=li.variant_id, quantity=li.quantity, seen_price=li.price)
            for li in state.lines
        ],
        customer_name=state.name,
        phone=state.phone,
        address=state.address,
        payment_method=state.payment,
        shipping_fee=fee,
        contact_id=place.contact_id,
        conversation_id=place.conversation_id,
    )
    try:
        async with session.begin_nested():  # stock taken by a failed attempt goes back
            order = await orders.place_order(
                session, place.workspace_id, checkout, region=place.region
            )
    except (PriceChanged, OutOfStock, NotForSale):
        return await review(session, place, settings, state)
    except CheckoutInvalid:
        state.stage = "phone"
        example = PHONE_EXAMPLES.get(place.region, PHONE_EXAMPLES["VN"])
        return [MessageContent(text=say("bad_phone", language, example=example))]
    bought = [li.product_id for li in state.lines]
    state.lines = []
    state.stage = None
    out = [
        MessageContent(
            text=say(
                "placed", language, number=order.number, total=money(order.total, order.currency)
            )
        )
    ]
    if order.payment_method == "link" and settings.public_url:
        out.append(await pay_link(session, place, settings, order))
    picks = await also_like(session, place.workspace_id, bought)
    if picks:
        out.append(cards.carousel(picks, language, settings.public_url, say("also_like", language)))
    return out


async def pay_link(
    session: AsyncSession, place: ChatPlace, settings: ShopSettingsOut, order: OrderOut
) -> MessageContent:
    assert settings.public_url is not None
    link = await payments.open_link(
        session, place.workspace_id, settings.public_url, order, now=utcnow()
    )
    amount = money(order.total, order.currency)
    return MessageContent(
        text=say("pay_now", place.language, amount=amount, number=order.number),
        buttons=[Button(title=say("pay", place.language), url=link)],
    )
