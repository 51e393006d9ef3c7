"""Admin contact list: accent-insensitive search, a saved segment as filter, sortable
columns, pages, and tagging or untagging many contacts at once."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chatcart.contacts import service as contacts
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.db import transaction
from chatcart.segments import service as segments
from chatcart.segments.schemas import ContactSort
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/contacts", include_in_schema=False)
PAGE = 50
SORTS: tuple[str, ...] = get_args(ContactSort)


async def _listing(
    session: DbSession,
    workspace_id: int,
    q: str | None,
    segment: int | None,
    sort: str,
    page: int,
) -> dict[str, Any]:
    chosen: Any = sort if sort in SORTS else "-last_interaction_at"
    rows = await segments.list_contacts(
        session,
        workspace_id,
        q=q,
        segment_id=segment,
        limit=PAGE + 1,  # one more tells whether there is a next page
        offset=page * PAGE,
        sort=chosen,
    )
    return {
        "rows": rows[:PAGE],
        "has_next": len(rows) > PAGE,
        "page": page,
        "q": q or "",
        "segment": segment,
        "sort": chosen,
    }


@router.get("", response_class=HTMLResponse)
async def contact_list(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    segment: Annotated[int | None, Query()] = None,
    sort: Annotated[str, Query(max_length=30)] = "-last_interaction_at",
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    listing = await _listing(session, principal.workspace_id, q, segment, sort, page)
    context = {
        "principal": principal,
        "workspace": await workspaces.get(session, principal.workspace_id),
        "segments": await segments.list_segments(session, principal.workspace_id),
        **listing,
    }
    template = "_contact_rows.html" if request.headers.get("hx-request") else "contacts.html"
    return render(request, template, context)


@router.post("/tags", dependencies=[Depends(check_csrf)])
async def bulk_tags(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    tag: Annotated[str, Form(min_length=1, max_length=100)],
    action: Annotated[str, Form(pattern="^(add|remove)$")] = "add",
    contact_ids: Annotated[list[int] | None, Form()] = None,
    back: Annotated[str, Form(max_length=500)] = "/admin/contacts",
) -> Response:
    ids = contact_ids or []
    async with transaction(runtime.sessions) as session:
        change = contacts.tag if action == "add" else contacts.untag
        await change(session, principal.workspace_id, ids, [tag], actor=principal.email)
    target = back if back.startswith("/admin/contacts") else "/admin/contacts"
    return RedirectResponse(target, status_code=303)
