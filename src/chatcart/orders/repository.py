"""The orders room's queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Subquery, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import Order, OrderEvent, OrderItem

FIRST_NUMBER = 1001


async def next_number(session: AsyncSession, workspace_id: int) -> int:
    top = await session.scalar(
        select(func.max(Order.number)).where(Order.workspace_id == workspace_id)
    )
    return int(top) + 1 if top else FIRST_NUMBER


async def order(
    session: AsyncSession, workspace_id: int, order_id: int, *, lock: bool = False
) -> Order | None:
    query = select(Order).where(Order.id == order_id, Order.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update()  # a status change waits for another on the same order
    return await session.scalar(query)


async def items_of(session: AsyncSession, order_ids: Sequence[int]) -> list[OrderItem]:
    if not order_ids:
        return []
    rows = await session.scalars(
        select(OrderItem).where(OrderItem.order_id.in_(order_ids)).order_by(OrderItem.id)
    )
    return list(rows.all())


async def events_of(session: AsyncSession, order_id: int) -> list[OrderEvent]:
    rows = await session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    )
    return list(rows.all())


async def orders(
    session: AsyncSession,
    workspace_id: int,
    *,
    status: str | None,
    q: str | None,
    contact_id: int | None,
    limit: int,
    offset: int,
) -> list[Order]:
    query = select(Order).where(Order.workspace_id == workspace_id)
    if status:
        query = query.where(Order.status == status)
    if contact_id is not None:
        query = query.where(Order.contact_id == contact_id)
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        clauses = [func.lower(Order.customer_name).contains(q.lower())]
        if digits:
            clauses.append(Order.phone.contains(digits.lstrip("0") or digits))
            if len(digits) <= 9:
                clauses.append(Order.number == int(digits))
        query = query.where(or_(*clauses))
    rows = await session.scalars(
        query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit).offset(offset)
    )
    return list(rows.all())


async def expired_holds(session: AsyncSession, now: datetime, limit: int) -> list[Order]:
    rows = await session.scalars(
        select(Order)
        .where(Order.status == "pending", Order.reserved_until < now)
        .order_by(Order.reserved_until)
        .limit(limit)
        .with_for_update(skip_locked=True)  # several workers: each order to one of them
    )
    return list(rows.all())


async def bought_with(
    session: AsyncSession, workspace_id: int, product_ids: Sequence[int], limit: int
) -> list[int]:
    """Products most often in the same orders as these (co-purchases), best first."""
    if not product_ids:
        return []
    mine = (
        select(OrderItem.order_id)
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.workspace_id == workspace_id, OrderItem.product_id.in_(product_ids))
    )
    rows = await session.execute(
        select(OrderItem.product_id, func.count(func.distinct(OrderItem.order_id)).label("n"))
        .where(
            OrderItem.order_id.in_(mine),
            OrderItem.product_id.is_not(None),
            OrderItem.product_id.not_in(product_ids),
        )
        .group_by(OrderItem.product_id)
        .order_by(func.count(func.distinct(OrderItem.order_id)).desc(), OrderItem.product_id)
        .limit(limit)
    )
    return [int(p) for p, _ in rows.all() if p is not None]


async def orders_after(
    session: AsyncSession, workspace_id: int, moments: Subquery, days: int
) -> tuple[int, int]:
    """(orders, buyers): orders placed (not cancelled) by the contacts of `moments`
    (columns contact_id, at) within `days` days after their moment, in one query."""
    contact_id, at = moments.c.contact_id, moments.c.at
    if session.get_bind().dialect.name == "sqlite":  # "YYYY-MM-DD HH:MM:SS.ffffff" text
        within = func.julianday(Order.created_at) - func.julianday(at) <= days
    else:
        within = Order.created_at <= at + func.make_interval(0, 0, 0, days)
    query = (
        select(func.count(Order.id), func.count(func.distinct(Order.contact_id)))
        .select_from(Order)
        .join(moments, contact_id == Order.contact_id)
        .where(
            Order.workspace_id == workspace_id,
            Order.status != "cancelled",
            Order.created_at >= at,
            within,
        )
    )
    orders, buyers = (await session.execute(query)).one()
    return int(orders or 0), int(buyers or 0)
