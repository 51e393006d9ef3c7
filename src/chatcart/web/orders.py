"""Admin orders: the list (status filter, search by number, phone or name), one order with
its lines, customer and history, and moving it along its statuses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.kit.errors import AppError
from chatcart.orders import service as orders
from chatcart.orders.schemas import STATUSES
from chatcart.shop import service as shop
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/orders", include_in_schema=False)
PAGE = 50


@router.get("", response_class=HTMLResponse)
async def order_list(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=12)] = None,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    chosen: Any = status if status in STATUSES else None
    rows = await orders.list_orders(
        session, principal.workspace_id, status=chosen, q=(q or "").strip() or None,
        limit=PAGE + 1, offset=page * PAGE,
    )  # fmt: skip
    return render(
        request,
        "orders.html",
        {
            "principal": principal,
            "workspace": await workspaces.get(session, principal.workspace_id),
            "rows": rows[:PAGE],
            "has_next": len(rows) > PAGE,
            "page": page,
            "q": q or "",
            "status": chosen or "",
            "statuses": STATUSES,
        },
    )


async def _order_page(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    order_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
        order = await orders.get_order(session, principal.workspace_id, order_id)
    return render(
        request,
        "order.html",
        {"principal": principal, "workspace": workspace, "order": order, "error": error},
        status_code=status_code,
    )


@router.get("/{order_id:int}", response_class=HTMLResponse)
async def order_view(
    order_id: int, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> HTMLResponse:
    return await _order_page(request, principal, runtime, order_id)


@router.post("/{order_id:int}/status", dependencies=[Depends(check_csrf)])
async def order_status(
    order_id: int,
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    to: Annotated[str, Form(max_length=12)],
    note: Annotated[str, Form(max_length=2000)] = "",
    tracking_code: Annotated[str, Form(max_length=100)] = "",
    tracking_url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        chosen = next((s for s in STATUSES if s == to), None)
        if chosen is None:
            raise AppError(f"{to!r} is not an order status")
        effects = Effects()
        async with transaction(runtime.sessions) as session:
            await shop.change_status(
                session,
                effects,
                principal.workspace_id,
                order_id,
                chosen,
                actor=principal.email or f"user {principal.user_id}",
                note=note,
                tracking_code=tracking_code,
                tracking_url=tracking_url,
            )
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return await _order_page(
            request, principal, runtime, order_id, error=exc.message, status_code=409
        )
    await effects.flush(runtime.bus)
    return RedirectResponse(f"/admin/orders/{order_id}", status_code=303)
