"""The shop room's only door: the shop's answers in chat (built-in intents, taps, flow
steps), shop settings, order notifications through the outbox and policy, payments."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.channels.base import MessageContent
from chatcart.contacts import service as contacts
from chatcart.kit import config_cache
from chatcart.kit.clock import utcnow
from chatcart.kit.crypto import SecretBox
from chatcart.kit.effects import Effects
from chatcart.kit.errors import AppError
from chatcart.models import Payment, ShopChat, ShopSetting
from chatcart.orders import service as orders
from chatcart.orders.schemas import NEXT, OrderOut, OrderStatus, StatusChanged
from chatcart.shop import chat, payments, repository, store_hooks
from chatcart.shop.schemas import ChatPlace, ChatState, ShippingRule, ShopSettingsOut
from chatcart.shop.texts import language_of, money, say, status_name
from chatcart.workspaces import service as workspaces

log = logging.getLogger(__name__)


# ---- settings -----------------------------------------------------------------------------


_SETTINGS = "shop_settings"  # session.info: {workspace id: settings}, read once per transaction
_CHATS = "shop_chats"  # session.info: {conversation id: chat row or None}, read per batch


async def settings_of(session: AsyncSession, workspace_id: int) -> ShopSettingsOut:
    known: dict[int, ShopSettingsOut] = session.info.setdefault(_SETTINGS, {})
    if workspace_id in known:
        return known[workspace_id]
    out = await config_cache.cached(
        session, workspace_id, "shop.settings", lambda: _read_settings(session, workspace_id)
    )
    known[workspace_id] = out
    return out


async def _read_settings(session: AsyncSession, workspace_id: int) -> ShopSettingsOut:
    row = await repository.setting(session, workspace_id)
    if row is None:
        return ShopSettingsOut(public_url=None, shipping=ShippingRule(), payment_link=False)
    return ShopSettingsOut(
        public_url=row.public_url,
        shipping=ShippingRule.model_validate(row.shipping or {}),
        payment_link=row.payment_link,
    )


async def load_chats(
    session: AsyncSession, conversation_ids: set[int], new_ids: set[int] | None = None
) -> None:
    """The shop states of a batch's conversations, locked, with one query; conversations
    created in this batch (`new_ids`) have none yet. Later look-ups read them from memory."""
    known: dict[int, ShopChat | None] = session.info.setdefault(_CHATS, {})
    rows = await repository.chats(session, conversation_ids) if conversation_ids else {}
    for conversation_id in conversation_ids:
        known[conversation_id] = rows.get(conversation_id)
    for conversation_id in new_ids or ():
        known[conversation_id] = None


def note_new_conversation(session: AsyncSession, conversation_id: int) -> None:
    """A conversation created in this transaction has no shop state (when a batch is loaded)."""
    known: dict[int, ShopChat | None] | None = session.info.get(_CHATS)
    if known is not None:
        known[conversation_id] = None


async def save_settings(
    session: AsyncSession,
    workspace_id: int,
    *,
    public_url: str | None,
    shipping: ShippingRule | None = None,
    payment_link: bool = True,
) -> ShopSettingsOut:
    row = await repository.setting(session, workspace_id)
    if row is None:
        row = ShopSetting(workspace_id=workspace_id)
        session.add(row)
    row.public_url = public_url.rstrip("/") if public_url else None
    row.shipping = (shipping or ShippingRule()).model_dump()
    row.payment_link = payment_link
    row.updated_at = utcnow()
    await session.flush()
    session.info.get(_SETTINGS, {}).pop(workspace_id, None)
    return await settings_of(session, workspace_id)


async def set_store_secret(
    session: AsyncSession, secrets: SecretBox, workspace_id: int, secret: str
) -> None:
    """The key the seller's WooCommerce or Shopify signs its order webhooks with."""
    row = await repository.setting(session, workspace_id)
    if row is None:
        row = ShopSetting(workspace_id=workspace_id, shipping=ShippingRule().model_dump())
        session.add(row)
    row.store_secret_encrypted = secrets.encrypt(secret)
    await session.flush()


async def clear_store_secret(session: AsyncSession, workspace_id: int) -> None:
    """No more store webhooks: every one is refused (401) until a secret is set again."""
    row = await repository.setting(session, workspace_id)
    if row is not None:
        row.store_secret_encrypted = None
        await session.flush()


async def store_secret(session: AsyncSession, secrets: SecretBox, workspace_id: int) -> str | None:
    row = await repository.setting(session, workspace_id)
    if row is None or not row.store_secret_encrypted:
        return None
    return secrets.decrypt(row.store_secret_encrypted)


# ---- in chat ------------------------------------------------------------------------------


async def _state(session: AsyncSession, place: ChatPlace) -> tuple[ShopChat | None, ChatState]:
    known: dict[int, ShopChat | None] = session.info.get(_CHATS, {})
    if place.conversation_id in known:
        row = known[place.conversation_id]
    else:
        row = await repository.chat(session, place.conversation_id)
    return row, ChatState.model_validate(row.state or {}) if row is not None else ChatState()


def _speaking(place: ChatPlace, state: ChatState) -> ChatPlace:
    if place.language_sure or state.language is None:
        state.language = place.language
        return place
    return place.model_copy(update={"language": state.language})


async def _keep(
    session: AsyncSession, place: ChatPlace, row: ShopChat | None, state: ChatState
) -> None:
    if row is None:  # the conversation's first visit to the shop
        row = ShopChat(workspace_id=place.workspace_id, conversation_id=place.conversation_id)
        session.add(row)
        known: dict[int, ShopChat | None] | None = session.info.get(_CHATS)
        if known is not None:
            known[place.conversation_id] = row
    row.state = state.model_dump(mode="json")
    row.updated_at = utcnow()
    if _CHATS not in session.info:
        await session.flush()  # one event at a time; a batch writes with its one flush


async def answer(
    session: AsyncSession,
    place: ChatPlace,
    text: str,
    payload: str | None,
    *,
    intents: bool,
) -> list[MessageContent] | None:
    """The shop's answer to what the person wrote or tapped; None when it is not the
    shop's (a flow or the greeter answers). `intents`: typed words like "my order" or
    "còn áo thun không" count too (asked after the flows had their chance)."""
    settings = await settings_of(session, place.workspace_id)
    row, state = await _state(session, place)
    place = _speaking(place, state)
    replies = await chat.answer(session, place, settings, state, text, payload, intents=intents)
    if replies is not None:
        await _keep(session, place, row, state)
    return replies


async def act(
    session: AsyncSession,
    place: ChatPlace,
    op: str,
    query: str = "",
    args: dict[str, str] | None = None,
) -> list[MessageContent]:
    """What a flow's shop step shows (categories, a search, the cart, the checkout...)."""
    settings = await settings_of(session, place.workspace_id)
    row, state = await _state(session, place)
    place = _speaking(place, state)
    replies = await chat.act(session, place, settings, state, op, query, args or {})
    await _keep(session, place, row, state)
    return replies


async def cart_of(session: AsyncSession, conversation_id: int) -> ChatState:
    row = await repository.chat(session, conversation_id)
    return ChatState.model_validate(row.state or {}) if row is not None else ChatState()


# ---- order notifications ------------------------------------------------------------------


def status_message(order: OrderOut, language: str) -> MessageContent:
    text = say(
        "status_changed", language, number=order.number, status=status_name(order.status, language)
    )
    if order.status == "shipped" and order.tracking_code:
        text += "\n" + say("tracking", language, code=order.tracking_code)
    if order.status == "shipped" and order.tracking_url:
        text += "\n" + order.tracking_url
    return MessageContent(text=text)


async def notify_status(
    session: AsyncSession, effects: Effects, workspace_id: int, changed: StatusChanged
) -> bool:
    """Tell the customer in their conversation. The message goes through the outbox, so
    policy decides: outside what the channel allows it is recorded as not sent, with the
    rule, and goes out the next time the customer writes. False: no conversation."""
    order = changed.order
    if order.conversation_id is None:
        return False
    from chatcart.conversations import service as conversations  # it calls this room

    language = await _language(session, workspace_id, order.contact_id)
    return await conversations.post(
        session,
        effects,
        workspace_id=workspace_id,
        conversation_id=order.conversation_id,
        content=status_message(order, language),
        key=f"order:{order.id}:{changed.to_status}",
        purpose="order_update",
    )


async def _language(session: AsyncSession, workspace_id: int, contact_id: int | None) -> str:
    if contact_id is None:
        return "vi"
    try:
        person = await contacts.get(session, workspace_id, contact_id)
    except AppError:
        return "vi"
    return language_of(person.locale or (await workspaces.get(session, workspace_id)).locale)


async def change_status(
    session: AsyncSession,
    effects: Effects,
    workspace_id: int,
    order_id: int,
    to: OrderStatus,
    *,
    actor: str,
    note: str = "",
    tracking_code: str | None = None,
    tracking_url: str | None = None,
) -> StatusChanged:
    """An order's status change, told to its customer (the seller's admin and the store
    webhooks come through here)."""
    changed = await orders.change_status(
        session,
        workspace_id,
        order_id,
        to,
        actor=actor,
        note=note,
        tracking_code=tracking_code,
        tracking_url=tracking_url,
    )
    await notify_status(session, effects, workspace_id, changed)
    return changed


async def release_expired(session: AsyncSession, effects: Effects) -> int:
    """Unpaid payment-link orders past their hold are cancelled, and their customers told."""
    changed = await orders.release_expired(session)
    for change in changed:
        if change.workspace_id is not None:
            await notify_status(session, effects, change.workspace_id, change)
    return len(changed)


# ---- payments -----------------------------------------------------------------------------


async def pay_page(session: AsyncSession, token: str) -> tuple[Payment, OrderOut]:
    payment = await payments.payment(session, token)
    order = await orders.get_order(session, payment.workspace_id, payment.order_id)
    return payment, order


async def payment_callback(
    session: AsyncSession,
    effects: Effects,
    provider: payments.PaymentProvider,
    fields: dict[str, str],
    signature: str,
) -> OrderOut:
    """The provider's signed word on a payment. A bad signature is rejected (401) and
    logged; a good one marks the order paid once and tells the customer."""
    payments.check_callback(provider, fields, signature)
    payment = await payments.payment(session, fields.get("token", ""))
    order = await orders.get_order(session, payment.workspace_id, payment.order_id)
    if payment.status != "open":
        return order  # told already: a provider may call back twice
    if fields.get("status") != "paid" or fields.get("amount") != str(payment.amount):
        payment.status = "failed"
        await session.flush()
        return order
    payment.status = "paid"
    payment.reference = fields.get("reference", "")[:100] or None
    payment.paid_at = utcnow()
    order = await orders.record_payment(
        session, payment.workspace_id, payment.order_id, actor=f"payment:{payment.provider}"
    )
    if order.conversation_id is not None:
        from chatcart.conversations import service as conversations  # it calls this room

        amount = money(payment.amount, payment.currency)
        language = await _language(session, payment.workspace_id, order.contact_id)
        await conversations.post(
            session,
            effects,
            workspace_id=payment.workspace_id,
            conversation_id=order.conversation_id,
            content=MessageContent(text=say("paid", language, amount=amount, number=order.number)),
            key=f"order:{order.id}:paid",
            purpose="order_update",
        )
    log.info("order %s paid through %s", order.id, payment.provider)
    return order


def sandbox_provider(secret_key: str) -> payments.PaymentProvider:
    return payments.SandboxProvider(secret_key)


# ---- store webhooks -----------------------------------------------------------------------


def check_store_signature(secret: str, body: bytes, header: str | None) -> None:
    store_hooks.check_signature(secret, body, header)


async def store_order_update(
    session: AsyncSession, effects: Effects, workspace_id: int, kind: str, data: object
) -> str:
    """An external store's order changed: our order with that number moves along (and
    its customer is told). Returns what was done: moved, unchanged, unknown_order,
    ignored_status."""
    number, status, _phone, tracking = store_hooks.read(kind, data)
    if status is None:
        return "ignored_status"
    found = await orders.list_orders(session, workspace_id, q=number, limit=5)
    order = next((o for o in found if str(o.number) == number), None)
    if order is None:
        return "unknown_order"
    if order.status == status or status not in NEXT[order.status]:
        return "unchanged"
    await change_status(
        session,
        effects,
        workspace_id,
        order.id,
        status,
        actor=f"store:{kind}",
        tracking_code=tracking,
    )
    return "moved"
