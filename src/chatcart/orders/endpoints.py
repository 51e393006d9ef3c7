"""/api/v1/orders: read-only, scoped to the token's workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chatcart.http_deps import ApiPrincipal, DbSession
from chatcart.orders import service
from chatcart.orders.schemas import OrderOut, OrderStatus

router = APIRouter(tags=["orders"])


@router.get("/orders", response_model=list[OrderOut])
async def list_orders(
    principal: ApiPrincipal,
    session: DbSession,
    status: OrderStatus | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Number, phone or name.")] = None,
    contact_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OrderOut]:
    """Newest first, with their lines."""
    return await service.list_orders(
        session,
        principal.workspace_id,
        status=status,
        q=q,
        contact_id=contact_id,
        limit=limit,
        offset=offset,
    )


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(order_id: int, principal: ApiPrincipal, session: DbSession) -> OrderOut:
    """One order with its lines and status history."""
    return await service.get_order(session, principal.workspace_id, order_id)
