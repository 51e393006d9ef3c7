"""The orders room's only door: checkout (stock reserved in the same transaction, so two
customers racing for the last item make exactly one order), status changes with history,
and holds that expire."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Subquery
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.catalog import service as catalog
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import normalise_phone
from chatcart.models import Order, OrderEvent, OrderItem
from chatcart.orders import repository
from chatcart.orders.errors import (
    CheckoutInvalid,
    NotForSale,
    OrderNotFound,
    OutOfStock,
    PriceChanged,
    StatusChangeRefused,
)
from chatcart.orders.schemas import (
    NEXT,
    Checkout,
    LineProblem,
    OrderEventOut,
    OrderItemOut,
    OrderOut,
    OrderStatus,
    StatusChanged,
)

# How long a pending order paid by link holds its stock (cash on delivery holds it until
# the seller confirms or cancels).
PAYMENT_HOLD = timedelta(minutes=30)
_NUMBER_TRIES = 20


async def place_order(
    session: AsyncSession,
    workspace_id: int,
    checkout: Checkout,
    *,
    region: str = "VN",
    actor: str = "customer",
    now: datetime | None = None,
) -> OrderOut:
    """Check the lines (for sale, price as seen, in stock), take the stock and write the
    order. Raises PriceChanged / OutOfStock / NotForSale with the lines concerned, so the
    customer is told before anything is confirmed; the caller's transaction then rolls back
    whatever stock this call had taken."""
    now = now or utcnow()
    phone = normalise_phone(checkout.phone, region)
    if phone is None or not phone.valid:
        raise CheckoutInvalid(
            f"{checkout.phone!r} is not a phone number", code="phone_invalid", field="phone"
        )
    wanted: dict[int, int] = {}
    seen: dict[int, int | None] = {}
    for line in checkout.lines:
        wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
        seen[line.variant_id] = line.seen_price
    variants = await catalog.variants_for_sale(session, workspace_id, list(wanted))
    missing = [vid for vid in wanted if vid not in variants or variants[vid].status != "active"]
    if missing:
        raise NotForSale("some items are no longer sold", variant_ids=missing)
    currencies = {v.currency for v in variants.values()}
    if len(currencies) != 1:
        raise CheckoutInvalid("items in different currencies cannot be in one order")
    changed = [
        LineProblem(
            variant_id=vid,
            name=variants[vid].product_name,
            wanted=qty,
            seen_price=seen[vid],
            price=variants[vid].price,
        )
        for vid, qty in wanted.items()
        if seen[vid] is not None and seen[vid] != variants[vid].price
    ]
    if changed:
        raise PriceChanged(
            "prices changed since the cart was shown",
            lines=[c.model_dump() for c in changed],
        )
    short: list[LineProblem] = []
    reserved: set[int] = set()
    for vid, qty in wanted.items():
        if variants[vid].stock is None:
            continue  # not counted: always available
        if await catalog.reserve_stock(session, vid, qty):
            reserved.add(vid)
        else:
            short.append(
                LineProblem(
                    variant_id=vid,
                    name=variants[vid].product_name,
                    wanted=qty,
                    available=variants[vid].stock,
                )
            )
    if short:
        raise OutOfStock(
            "some items are not in stock in that quantity",
            lines=[s.model_dump() for s in short],
        )
    subtotal = sum(variants[vid].price * qty for vid, qty in wanted.items())
    row = await _insert_numbered(
        session,
        workspace_id,
        dict(
            contact_id=checkout.contact_id,
            conversation_id=checkout.conversation_id,
            status="pending",
            currency=currencies.pop(),
            subtotal=subtotal,
            shipping_fee=checkout.shipping_fee,
            total=subtotal + checkout.shipping_fee,
            customer_name=checkout.customer_name,
            phone=phone.value,
            address=checkout.address,
            note=checkout.note,
            payment_method=checkout.payment_method,
            reserved_until=now + PAYMENT_HOLD if checkout.payment_method == "link" else None,
            created_at=now,
            updated_at=now,
        ),
    )
    for vid, qty in wanted.items():
        v = variants[vid]
        session.add(
            OrderItem(
                order_id=row.id,
                product_id=v.product_id,
                variant_id=vid,
                name=v.product_name,
                variant_title=v.variant_title,
                sku=v.sku,
                unit_price=v.price,
                quantity=qty,
                line_total=v.price * qty,
                reserved=vid in reserved,
            )
        )
    session.add(OrderEvent(order_id=row.id, to_status="pending", actor=actor, at=now))
    await session.flush()
    return await _out(session, row)


async def _insert_numbered(
    session: AsyncSession, workspace_id: int, fields: dict[str, object]
) -> Order:
    """Numbers are per shop and sequential; two orders placed at once may pick the same
    one, and the second then takes the next."""
    for _ in range(_NUMBER_TRIES):
        number = await repository.next_number(session, workspace_id)
        row = Order(workspace_id=workspace_id, number=number, **fields)
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            continue
        return row
    raise CheckoutInvalid("too many orders at once; try again")


async def get_order(session: AsyncSession, workspace_id: int, order_id: int) -> OrderOut:
    row = await repository.order(session, workspace_id, order_id)
    if row is None:
        raise OrderNotFound(f"no order {order_id}")
    return await _out(session, row, events=True)


async def list_orders(
    session: AsyncSession,
    workspace_id: int,
    *,
    status: OrderStatus | None = None,
    q: str | None = None,
    contact_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[OrderOut]:
    rows = await repository.orders(
        session,
        workspace_id,
        status=status,
        q=q,
        contact_id=contact_id,
        limit=limit,
        offset=offset,
    )
    items: dict[int, list[OrderItem]] = {}
    for item in await repository.items_of(session, [r.id for r in rows]):
        items.setdefault(item.order_id, []).append(item)
    return [_order_out(r, items.get(r.id, []), []) for r in rows]


async def change_status(
    session: AsyncSession,
    workspace_id: int,
    order_id: int,
    to: OrderStatus,
    *,
    actor: str,
    note: str = "",
    tracking_code: str | None = None,
    tracking_url: str | None = None,
    now: datetime | None = None,
) -> StatusChanged:
    """Moves an order along pending → confirmed → packed → shipped → delivered, or to
    cancelled / returned (which put the reserved stock back on sale)."""
    now = now or utcnow()
    row = await repository.order(session, workspace_id, order_id, lock=True)
    if row is None:
        raise OrderNotFound(f"no order {order_id}")
    before: OrderStatus = row.status  # type: ignore[assignment]
    if to not in NEXT[before]:
        allowed = ", ".join(NEXT[before]) or "nothing (final)"
        raise StatusChangeRefused(
            f"order #{row.number} is {before}: it can become {allowed}, not {to}",
            status=before,
        )
    if to in ("cancelled", "returned"):
        for item in await repository.items_of(session, [row.id]):
            if item.reserved and item.variant_id is not None:
                await catalog.release_stock(session, item.variant_id, item.quantity)
                item.reserved = False
    if to == "shipped":
        row.tracking_code = (tracking_code or "").strip() or row.tracking_code
        row.tracking_url = (tracking_url or "").strip() or row.tracking_url
    if to == "delivered" and row.payment_method == "cod":
        row.payment_status = "paid"  # the courier collected the cash
    if to == "confirmed":
        row.reserved_until = None  # the seller keeps the stock for it now
    row.status = to
    row.updated_at = now
    session.add(
        OrderEvent(
            order_id=row.id,
            from_status=before,
            to_status=to,
            actor=actor,
            note=note.strip(),
            at=now,
        )
    )
    await session.flush()
    return StatusChanged(
        order=await _out(session, row, events=True),
        from_status=before,
        to_status=to,
        workspace_id=row.workspace_id,
    )


async def release_expired(
    session: AsyncSession, now: datetime | None = None, limit: int = 100
) -> list[StatusChanged]:
    """Pending orders whose payment did not come in time are cancelled; their stock goes
    back on sale."""
    now = now or utcnow()
    changed = []
    for row in await repository.expired_holds(session, now, limit):
        changed.append(
            await change_status(
                session,
                row.workspace_id,
                row.id,
                "cancelled",
                actor="system",
                note="payment not received in time",
                now=now,
            )
        )
    return changed


async def bought_with(
    session: AsyncSession, workspace_id: int, product_ids: list[int], limit: int = 10
) -> list[int]:
    """Products most often bought in the same orders as these (recommendations)."""
    return await repository.bought_with(session, workspace_id, product_ids, limit)


async def record_payment(
    session: AsyncSession,
    workspace_id: int,
    order_id: int,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> OrderOut:
    """The order is paid (a payment link came back paid): it keeps its stock for good."""
    now = now or utcnow()
    row = await repository.order(session, workspace_id, order_id, lock=True)
    if row is None:
        raise OrderNotFound(f"no order {order_id}")
    row.payment_status = "paid"
    row.reserved_until = None
    row.updated_at = now
    session.add(
        OrderEvent(
            order_id=row.id,
            from_status=row.status,
            to_status=row.status,
            actor=actor,
            note=note or "paid",
            at=now,
        )
    )
    await session.flush()
    return await _out(session, row, events=True)


async def orders_after(
    session: AsyncSession, workspace_id: int, moments: Subquery, days: int
) -> tuple[int, int]:
    """(orders, buyers) placed, not cancelled, by the contacts of `moments` (a subquery of
    contact_id, at) within `days` days after their moment: what a broadcast brought in."""
    return await repository.orders_after(session, workspace_id, moments, days)


async def seed_demo(session: AsyncSession, workspace_id: int) -> int:
    """A few orders at each stage for the demo shop; returns how many."""
    from chatcart.orders import demo_data  # it calls this module back

    return await demo_data.seed(session, workspace_id)


async def _out(session: AsyncSession, row: Order, *, events: bool = False) -> OrderOut:
    items = await repository.items_of(session, [row.id])
    history = await repository.events_of(session, row.id) if events else []
    return _order_out(row, items, history)


def _order_out(row: Order, items: list[OrderItem], history: list[OrderEvent]) -> OrderOut:
    return OrderOut(
        id=row.id,
        number=row.number,
        status=row.status,
        currency=row.currency,
        subtotal=row.subtotal,
        shipping_fee=row.shipping_fee,
        total=row.total,
        customer_name=row.customer_name,
        phone=row.phone,
        address=row.address,
        note=row.note,
        payment_method=row.payment_method,
        payment_status=row.payment_status,
        tracking_code=row.tracking_code,
        tracking_url=row.tracking_url,
        contact_id=row.contact_id,
        conversation_id=row.conversation_id,
        reserved_until=row.reserved_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
        items=[
            OrderItemOut(
                id=i.id,
                product_id=i.product_id,
                variant_id=i.variant_id,
                name=i.name,
                variant_title=i.variant_title,
                sku=i.sku,
                unit_price=i.unit_price,
                quantity=i.quantity,
                line_total=i.line_total,
            )
            for i in items
        ],
        events=[
            OrderEventOut(
                from_status=e.from_status,
                to_status=e.to_status,
                actor=e.actor,
                note=e.note,
                at=e.at,
            )
            for e in history
        ],
    )
