"""The shop's answers in a conversation: categories, search carousels, a product's
variants, quantity, the cart, the checkout (checkout.py), the customer's orders and a
one-tap reorder. Buttons carry `SHOP:...` payloads; typed words reach the same answers
through the built-in intents."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.catalog import service as catalog
from chatcart.catalog.errors import ProductNotFound
from chatcart.catalog.schemas import ProductCard, ProductQuery
from chatcart.channels.base import MessageContent, QuickReply
from chatcart.kit.ids import key_of
from chatcart.kit.textnorm import fold
from chatcart.orders import service as orders
from chatcart.shop import cards, checkout
from chatcart.shop.recommend import also_like, quiz_picks
from chatcart.shop.schemas import CartLine, ChatPlace, ChatState, ShopSettingsOut
from chatcart.shop.texts import money, say, status_name

MAX_QUANTITY = 99
_QUANTITIES = (1, 2, 3, 4, 5)

# Built-in intents, on folded text (no accents, lower case).
_MY_ORDERS = re.compile(
    r"\b(don hang cua (toi|minh|em)|don cua (toi|minh|em)|my orders?|order (ko|khong|status)"
    r"|kiem tra don|tra cuu don|track (my )?order|nasaan ang order)\b"
)
_CART = re.compile(r"^(xem )?(gio hang|gio do|cart|my cart|view cart|basket)( cua (toi|minh|em))?$")
_REORDER = re.compile(r"^(mua lai|dat lai|reorder|order again)$")
_BROWSE = re.compile(r"^(danh muc|xem san pham|san pham|xem hang|categories|products|browse|shop)$")
_SEARCH = re.compile(
    r"^(?:tim|tim kiem|search|find|co ban|shop co|con|co|may)\s+(?P<q>.+?)"
    r"(?:\s+(?:khong|ko|k|hong|ha|a|nhi|nua khong|nua ko|nua|ba))?\s*[?!.]*$"
)
_NOISE = re.compile(r"\b(size|co|sz)\s+\w{1,4}\b|\b(shop|oi|ban|nao|mau|cai|chiec|minh|em)\b")


def _size_of(folded: str) -> str | None:
    found = re.search(r"\b(?:size|sz|co)\s+(\w{1,4})\b", folded)
    return found.group(1) if found else None


async def answer(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    state: ChatState,
    text: str,
    payload: str | None,
    *,
    intents: bool,
) -> list[MessageContent] | None:
    """None: not for the shop (flows or the greeter answer). A waiting checkout question
    and SHOP: taps are always the shop's; typed intents only when `intents`."""
    if payload and (payload.startswith("SHOP:") or payload == "PRODUCTS"):
        return await _tap(session, place, settings, state, payload)
    if state.stage is not None and not payload:
        if fold(text) in {"huy", "cancel", "thoi", "khong mua nua"}:
            state.stage = None
            return [MessageContent(text=say("checkout_cancelled", place.language))]
        if state.stage == "quantity":
            return await _typed_quantity(session, place, settings, state, text)
        return await checkout.answer(session, place, settings, state, text, payload)
    if not intents or payload:
        return None
    return await _intent(session, place, settings, state, text)


async def _intent(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    state: ChatState,
    text: str,
) -> list[MessageContent] | None:
    folded = fold(text).strip()
    if not folded:
        return None
    if _MY_ORDERS.search(folded):
        return await my_orders(session, place)
    if _CART.match(folded):
        return await show_cart(session, place, settings, state)
    if _REORDER.match(folded):
        return await reorder(session, place, settings, state, None)
    if _BROWSE.match(folded):
        return await categories(session, place, settings)
    found = _SEARCH.match(folded.rstrip("?!. "))
    if found:
        words = _NOISE.sub(" ", found.group("q")).split()
        if words:
            out = await search(session, place, settings, " ".join(words), only_found=True)
            return out or None
    return None


async def act(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    state: ChatState,
    op: str,
    query: str,
    args: dict[str, str],
) -> list[MessageContent]:
    """A flow's shop step."""
    if op == "categories":
        return await categories(session, place, settings)
    if op == "search":
        return await search(session, place, settings, query)
    if op == "cart":
        return await show_cart(session, place, settings, state)
    if op == "checkout":
        return checkout.start(state, place)
    if op == "my_orders":
        return await my_orders(session, place)
    if op == "reorder":
        return await reorder(session, place, settings, state, None)
    if op == "recommend":
        picks = await also_like(session, place.workspace_id, [li.product_id for li in state.lines])
        intro = say("also_like", place.language)
        return [cards.carousel(picks, place.language, settings.public_url, intro)] if picks else []
    if op == "quiz":
        return await quiz(session, place, settings, args)
    raise ValueError(f"unknown shop step op {op!r}")


async def _tap(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    state: ChatState,
    payload: str,
) -> list[MessageContent]:
    parts = payload.split(":")
    kind = parts[1] if len(parts) > 1 else ""
    number = key_of(parts[2]) if len(parts) > 2 else None
    language = place.language
    if payload == "PRODUCTS" or kind == "CATS":
        return await categories(session, place, settings)
    if kind == "CAT" and number is not None:
        query = ProductQuery(category_id=number, status="active", in_stock=True, limit=10)
        found = await _search(session, place, query)
        return [cards.carousel(found, language, settings.public_url, say("results", language))]
    if kind == "P" and number is not None:
        return await product(session, place, state, number)
    if kind == "V" and number is not None:
        return await pick_quantity(session, place, state, number)
    quantity = key_of(parts[3]) if len(parts) > 3 else None
    if kind == "Q" and number is not None and quantity is not None:
        return await add(session, place, settings, state, number, min(quantity, MAX_QUANTITY))
    if kind == "CART":
        return await show_cart(session, place, settings, state)
    if kind == "EDIT":
        state.stage = None
        return [cards.edit(state, language) if state.lines else cards.cart(state, language)]
    if kind == "RM" and number is not None:
        line = state.line(number)
        state.lines = [li for li in state.lines if li.variant_id != number]
        out = [MessageContent(text=say("removed", language, item=line.label))] if line else []
        return [*out, cards.cart(state, language)]
    if kind == "CHECKOUT":
        return checkout.start(state, place)
    if kind in {"NAME", "PAY"} and state.stage is not None:
        return await checkout.answer(session, place, settings, state, "", payload)
    if kind == "CONFIRM":
        return await checkout.confirm(session, place, settings, state)
    if kind == "CANCEL":
        state.stage = None
        return [MessageContent(text=say("checkout_cancelled", language))]
    if kind == "ORDERS":
        return await my_orders(session, place)
    if kind == "REORDER":
        return await reorder(session, place, settings, state, number)
    return [await _categories_or_empty(session, place, settings)]


async def _categories_or_empty(
    session: AsyncSession, place: ChatPlace, settings: ShopSettingsOut
) -> MessageContent:
    return (await categories(session, place, settings))[0]


async def categories(
    session: AsyncSession, place: ChatPlace, settings: ShopSettingsOut
) -> list[MessageContent]:
    language = place.language
    found = [c for c in await catalog.list_categories(session, place.workspace_id) if c.depth == 0]
    if not found:
        query = ProductQuery(status="active", in_stock=True, limit=10)
        products = await _search(session, place, query)
        if not products:
            return [MessageContent(text=say("no_categories", language))]
        return [cards.carousel(products, language, settings.public_url, say("results", language))]
    return [
        MessageContent(
            text=say("categories", language),
            quick_replies=[
                QuickReply(title=c.name[:20], payload=f"SHOP:CAT:{c.id}")
                for c in found[: cards.MAX_QUICK_REPLIES]
            ],
        )
    ]


async def search(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    words: str,
    *,
    only_found: bool = False,
) -> list[MessageContent]:
    language = place.language
    query = ProductQuery(q=words[:200], status="active", in_stock=True, limit=10)
    found = await _search(session, place, query)
    if not found:
        return [] if only_found else [MessageContent(text=say("no_results", language, q=words))]
    return [cards.carousel(found, language, settings.public_url, say("results", language))]


async def product(
    session: AsyncSession, place: ChatPlace, state: ChatState, product_id: int
) -> list[MessageContent]:
    language = place.language
    try:
        item = await catalog.get_product(session, place.workspace_id, product_id)
    except ProductNotFound:
        return [MessageContent(text=say("no_results", language, q=str(product_id)))]
    for_sale = [v for v in item.variants if v.in_stock] if item.status == "active" else []
    if not for_sale:
        return [MessageContent(text=say("sold_out", language, item=item.name))]
    if len(for_sale) == 1:
        return await pick_quantity(session, place, state, for_sale[0].id)
    return [
        MessageContent(
            text=say("pick_variant", language, item=item.name),
            quick_replies=[
                QuickReply(
                    title=f"{v.title or item.name} · {v.price_text}"[:20],
                    payload=f"SHOP:V:{v.id}",
                )
                for v in for_sale[: cards.MAX_QUICK_REPLIES]
            ],
        )
    ]


async def pick_quantity(
    session: AsyncSession, place: ChatPlace, state: ChatState, variant_id: int
) -> list[MessageContent]:
    variants = await catalog.variants_for_sale(session, place.workspace_id, [variant_id])
    variant = variants.get(variant_id)
    language = place.language
    if variant is None or variant.status != "active" or variant.stock == 0:
        name = variant.product_name if variant else str(variant_id)
        return [MessageContent(text=say("sold_out", language, item=name))]
    state.stage = "quantity"
    state.pending_variant = variant_id
    top = MAX_QUANTITY if variant.stock is None else min(MAX_QUANTITY, variant.stock)
    label = (
        f"{variant.product_name} ({variant.variant_title})"
        if variant.variant_title
        else (variant.product_name)
    )
    return [
        MessageContent(
            text=say("pick_quantity", language, item=label),
            quick_replies=[
                QuickReply(title=str(n), payload=f"SHOP:Q:{variant_id}:{n}")
                for n in _QUANTITIES
                if n <= top
            ],
        )
    ]


async def _typed_quantity(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    state: ChatState,
    text: str,
) -> list[MessageContent]:
    digits = re.search(r"\d+", text)
    if state.pending_variant is None:
        state.stage = None
        return [cards.cart(state, place.language)]
    if digits is None or not 1 <= int(digits.group()) <= MAX_QUANTITY:
        return [MessageContent(text=say("bad_quantity", place.language, n=MAX_QUANTITY))]
    return await add(session, place, settings, state, state.pending_variant, int(digits.group()))


async def add(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    state: ChatState,
    variant_id: int,
    quantity: int,
) -> list[MessageContent]:
    state.stage = None
    state.pending_variant = None
    notes, line = await _put(session, place, state, variant_id, quantity)
    if line is None:
        return notes
    added = MessageContent(text=say("added", place.language, n=quantity, item=line.label))
    return [*notes, added, *(await show_cart(session, place, settings, state))]


async def _put(
    session: AsyncSession, place: ChatPlace, state: ChatState, variant_id: int, quantity: int
) -> tuple[list[MessageContent], CartLine | None]:
    """Put a variant in the cart (as much as is left); what to tell, and its line."""
    language = place.language
    variants = await catalog.variants_for_sale(session, place.workspace_id, [variant_id])
    variant = variants.get(variant_id)
    if variant is None or variant.status != "active" or variant.stock == 0:
        name = variant.product_name if variant else str(variant_id)
        return [MessageContent(text=say("sold_out", language, item=name))], None
    if state.lines and state.lines[0].currency != variant.currency:
        state.lines = []  # one order, one currency
    line = state.line(variant_id)
    wanted = min(MAX_QUANTITY, quantity + (line.quantity if line else 0))
    notes = []
    if variant.stock is not None and wanted > variant.stock:
        wanted = variant.stock
        notes.append(
            MessageContent(text=say("fewer", language, item=variant.product_name, n=wanted))
        )
    if line is None:
        card = await catalog.cards_by_ids(session, place.workspace_id, [variant.product_id])
        line = CartLine(
            variant_id=variant_id,
            product_id=variant.product_id,
            quantity=wanted,
            price=variant.price,
            currency=variant.currency,
            name=variant.product_name,
            title=variant.variant_title,
            image_url=card[0].image_url if card else None,
        )
        state.lines.append(line)
    else:
        line.quantity = wanted
        line.price = variant.price
    return notes, line


async def show_cart(
    session: AsyncSession, place: ChatPlace, settings: ShopSettingsOut, state: ChatState
) -> list[MessageContent]:
    cart = cards.cart(state, place.language)
    out = [cart]
    if state.lines:
        picks = await also_like(session, place.workspace_id, [li.product_id for li in state.lines])
        if picks:
            intro = say("also_like", place.language)
            also = cards.carousel(picks, place.language, settings.public_url, intro)
            # Quick replies show under the last message only (Messenger, the widget): the
            # cart's "Check out" goes with the suggestions that follow it.
            out.append(also.model_copy(update={"quick_replies": cart.quick_replies}))
    return out


async def my_orders(session: AsyncSession, place: ChatPlace) -> list[MessageContent]:
    language = place.language
    latest = await orders.list_orders(
        session, place.workspace_id, contact_id=place.contact_id, limit=3
    )
    if not latest:
        return [MessageContent(text=say("no_orders", language))]
    rows = []
    for order in latest:
        row = (
            f"#{order.number} · {money(order.total, order.currency)} · "
            f"{status_name(order.status, language)}"
        )
        if order.tracking_code:
            row += " · " + say("tracking", language, code=order.tracking_code)
        rows.append(row)
    return [
        MessageContent(
            text="\n".join([say("orders", language), *rows]),
            quick_replies=[
                QuickReply(
                    title=say("reorder", language, number=latest[0].number)[:20],
                    payload=f"SHOP:REORDER:{latest[0].id}",
                )
            ],
        )
    ]


async def reorder(
    session: AsyncSession,
    place: ChatPlace,
    settings: ShopSettingsOut,
    state: ChatState,
    order_id: int | None,
) -> list[MessageContent]:
    """The order's lines back in the cart at today's prices, then straight to checkout
    (one tap: the name, phone and address of that order are offered again)."""
    language = place.language
    mine = await orders.list_orders(
        session, place.workspace_id, contact_id=place.contact_id, limit=20
    )
    order = next((o for o in mine if order_id is None or o.id == order_id), None)
    if order is None:
        return [MessageContent(text=say("no_orders", language))]
    state.lines = []
    notes: list[MessageContent] = []
    for item in order.items:
        if item.variant_id is None:
            continue
        told, _ = await _put(session, place, state, item.variant_id, item.quantity)
        notes += told
    if not state.lines:
        return [*notes, cards.cart(state, language)]
    state.name, state.phone, state.address = order.customer_name, order.phone, order.address
    state.payment = order.payment_method
    head = MessageContent(text=say("reordered", language, number=order.number))
    return [head, *notes, *(await checkout.review(session, place, settings, state))]


async def quiz(
    session: AsyncSession, place: ChatPlace, settings: ShopSettingsOut, args: dict[str, str]
) -> list[MessageContent]:
    budget_text = re.sub(r"\D", "", args.get("budget", ""))
    picks, exact = await quiz_picks(
        session,
        place.workspace_id,
        occasion=args.get("occasion", "").strip(),
        size=args.get("size", "").strip(),
        budget=int(budget_text) if budget_text else None,
    )
    language = place.language
    if not picks:
        return [MessageContent(text=say("no_categories", language))]
    intro = say("quiz" if exact else "quiz_none", language)
    return [cards.carousel(picks, language, settings.public_url, intro)]


async def _search(
    session: AsyncSession, place: ChatPlace, query: ProductQuery
) -> list[ProductCard]:
    # Read once per transaction (an inbound batch): a shop with no catalog is not searched
    # for every message that looks like a product question.
    filled: dict[int, bool] = session.info.setdefault("shop_catalog_filled", {})
    if place.workspace_id not in filled:
        filled[place.workspace_id] = await catalog.has_products(session, place.workspace_id)
    if not filled[place.workspace_id]:
        return []
    return await catalog.search(session, place.workspace_id, query)
