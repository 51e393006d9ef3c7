"""/api/v1/segments and /api/v1/contacts: thin routers over segments.service.

`router` holds /segments (CRUD, count, preview, ID lists); `contacts_router` holds GET /contacts
(the contact list with the same filter). Both are scoped to the bearer token's workspace.
Request errors name the offending path the way a filter is written (filter.rules[2].op).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from chatcart.http_deps import ApiPrincipal, DbSession
from chatcart.kit.errors import ValidationFailed
from chatcart.segments import service
from chatcart.segments.errors import FilterInvalid
from chatcart.segments.schemas import (
    FILTER_EXAMPLE,
    ContactRow,
    ContactSort,
    CountOut,
    FilterIn,
    IdListIn,
    IdListOut,
    PreviewIn,
    PreviewOut,
    SegmentCreate,
    SegmentOut,
    SegmentUpdate,
    parse_filter,
    problems,
)


class _PathErrors(APIRoute):
    """Request validation errors as the room's 422: paths like `filter.rules[2].op`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def named(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                found = problems(list(exc.errors()))
                if any(p["field"].split(".")[0].startswith("filter") for p in found):
                    raise FilterInvalid.many(found) from None
                first = found[0] if found else {"field": "", "problem": "invalid request"}
                raise ValidationFailed(
                    f"{first['field']}: {first['problem']}", fields=found
                ) from None

        return named


router = APIRouter(prefix="/segments", tags=["segments"], route_class=_PathErrors)
contacts_router = APIRouter(prefix="/contacts", tags=["contacts"], route_class=_PathErrors)

_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "The filter or the request is invalid; `details.fields` names each path"}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such segment here"}}

_FILTER_EXAMPLES: dict[str, Any] = {
    "vip_messageable": {
        "summary": "VIPs with a phone, messageable on Messenger now, active lately or buyers",
        "value": {"filter": FILTER_EXAMPLE},
    },
    "lapsed_buyers": {
        "summary": "Bought at least twice, quiet for 60 days, did not say STOP",
        "value": {
            "filter": {
                "type": "group",
                "op": "and",
                "rules": [
                    {"type": "orders", "metric": "count", "op": "gte", "value": 2},
                    {"type": "last_interaction", "op": "not_within_days", "value": 60},
                    {"type": "consent", "purpose": "marketing", "status": "granted"},
                ],
            }
        },
    },
    "from_a_ref_link": {
        "summary": "Came from an m.me ref link and has no tag 'đã mua'",
        "value": {
            "filter": {
                "type": "group",
                "op": "and",
                "rules": [
                    {"type": "source", "key": "ref", "op": "eq", "value": "sale1111"},
                    {"type": "tags", "has": "none", "tags": ["đã mua"]},
                ],
            }
        },
    },
}


# --- /segments ---------------------------------------------------------------------------


@router.get("", response_model=list[SegmentOut], summary="List saved segments")
async def list_segments(principal: ApiPrincipal, session: DbSession) -> list[SegmentOut]:
    return await service.list_segments(session, principal.workspace_id)


@router.post(
    "",
    response_model=SegmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Save a filter segment",
    description="The filter is checked against the workspace's custom fields when saved.",
    responses={**_ERRORS, 409: {"description": "A segment with this name exists"}},
)
async def create_segment(
    data: SegmentCreate, principal: ApiPrincipal, session: DbSession
) -> SegmentOut:
    return await service.create(session, principal.workspace_id, data)


@router.post(
    "/count",
    response_model=CountOut,
    summary="Count the contacts an inline filter selects now",
    responses=_ERRORS,
)
async def count_filter(
    data: Annotated[FilterIn, Body(openapi_examples=_FILTER_EXAMPLES)],
    principal: ApiPrincipal,
    session: DbSession,
) -> CountOut:
    return await service.count(session, principal.workspace_id, data.filter)


@router.post(
    "/preview",
    response_model=PreviewOut,
    summary="First page of the contacts an inline filter selects",
    description="Latest interaction first (never interacted last), then newest contact.",
    responses=_ERRORS,
)
async def preview_filter(
    data: Annotated[PreviewIn, Body(openapi_examples=_FILTER_EXAMPLES)],
    principal: ApiPrincipal,
    session: DbSession,
) -> PreviewOut:
    return await service.preview(session, principal.workspace_id, data.filter, limit=data.limit)


@router.post(
    "/id-list",
    response_model=IdListOut,
    status_code=status.HTTP_201_CREATED,
    summary="Static segment from pasted platform IDs or phone numbers",
    description="Each line is matched against channel identities (PSIDs, ...) of any account "
    "of the workspace and against valid phones (normalised to E.164 with the workspace's "
    "default region, so `0912 345 678`, `+84912345678` and `84-912-345-678` are one number). "
    "Lines that match nobody come back in `unmatched`, trimmed, de-duplicated, in input order.",
    responses={**_ERRORS, 409: {"description": "A segment with this name exists"}},
)
async def create_from_id_list(
    data: IdListIn, principal: ApiPrincipal, session: DbSession
) -> IdListOut:
    return await service.create_from_id_list(session, principal.workspace_id, data)


@router.get(
    "/{segment_id}", response_model=SegmentOut, summary="One saved segment", responses=_NOT_FOUND
)
async def get_segment(segment_id: int, principal: ApiPrincipal, session: DbSession) -> SegmentOut:
    return await service.get(session, principal.workspace_id, segment_id)


@router.patch(
    "/{segment_id}",
    response_model=SegmentOut,
    summary="Rename a segment or replace its filter",
    responses={**_ERRORS, **_NOT_FOUND, 409: {"description": "A segment with this name exists"}},
)
async def update_segment(
    segment_id: int, data: SegmentUpdate, principal: ApiPrincipal, session: DbSession
) -> SegmentOut:
    return await service.update(session, principal.workspace_id, segment_id, data)


@router.delete(
    "/{segment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a segment",
    responses=_NOT_FOUND,
)
async def delete_segment(segment_id: int, principal: ApiPrincipal, session: DbSession) -> Response:
    await service.delete(session, principal.workspace_id, segment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{segment_id}/count",
    response_model=CountOut,
    summary="Count a saved segment's contacts now",
    responses={**_ERRORS, **_NOT_FOUND},
)
async def count_segment(segment_id: int, principal: ApiPrincipal, session: DbSession) -> CountOut:
    return await service.count(session, principal.workspace_id, segment_id)


@router.get(
    "/{segment_id}/preview",
    response_model=PreviewOut,
    summary="First page of a saved segment's contacts",
    responses={**_ERRORS, **_NOT_FOUND},
)
async def preview_segment(
    segment_id: int,
    principal: ApiPrincipal,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PreviewOut:
    return await service.preview(session, principal.workspace_id, segment_id, limit=limit)


# --- /contacts ---------------------------------------------------------------------------


@contacts_router.get(
    "",
    response_model=list[ContactRow],
    summary="List and search contacts",
    description="Merged contacts are never listed. `q` searches names, phones and emails "
    "without accents or case (`nguyen` finds `Nguyễn`). `segment_id` and `filter` (the "
    "segment filter as JSON text) narrow the list; given both, a contact must satisfy both.",
    responses={**_ERRORS, **_NOT_FOUND},
)
async def list_contacts(
    principal: ApiPrincipal,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200, description="Search text")] = None,
    segment_id: Annotated[int | None, Query(description="Only this segment's members")] = None,
    filter: Annotated[
        str | None,
        Query(
            max_length=20_000,
            description="A segment filter as JSON text",
            examples=['{"type":"tags","has":"any","tags":["VIP"]}'],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    sort: Annotated[ContactSort, Query()] = "-last_interaction_at",
) -> list[ContactRow]:
    node = parse_filter(filter, root="filter") if filter is not None else None
    return await service.list_contacts(
        session,
        principal.workspace_id,
        q=q,
        segment_id=segment_id,
        filter=node,
        limit=limit,
        offset=offset,
        sort=sort,
    )
