"""Admin segments: the list, the visual builder (AND/OR groups of every predicate the
compiler knows, a live count and first page as you edit), save / edit / delete, and a pasted
ID list turned into a static segment with the lines that matched nobody reported."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from chatcart.auth.schemas import Principal
from chatcart.channels import service as channels
from chatcart.contacts import service as contacts
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit import jsonx
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError
from chatcart.policy import service as policy
from chatcart.policy.errors import UnknownChannel
from chatcart.segments import service as segments
from chatcart.segments.errors import FilterInvalid
from chatcart.segments.schemas import (
    MAX_ID_LINES,
    ChannelKind,
    Filter,
    IdListIn,
    SegmentCreate,
    SegmentUpdate,
    dump_filter,
    parse_filter,
    problems,
)
from chatcart.web.filter_problems import localized
from chatcart.web.i18n import translations
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render, request_locale
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/segments", include_in_schema=False)
PREVIEW = 20
CHANNEL_KINDS: tuple[str, ...] = get_args(ChannelKind)
CONSENT_PURPOSES = ("marketing",)


def _messageable_kinds() -> list[str]:
    """Channels chatcart has messaging rules for (the compiler refuses the others)."""
    kinds = []
    for kind in CHANNEL_KINDS:
        try:
            policy.rules_for(kind)
        except UnknownChannel:
            continue
        kinds.append(kind)
    return kinds


async def _catalog(session: DbSession, workspace_id: int) -> dict[str, Any]:
    """What the builder offers: the workspace's tags, fields and channels."""
    accounts = await channels.list_accounts(session, workspace_id)
    connected = sorted({account.kind for account in accounts})
    return {
        "tags": await contacts.tag_names(session, workspace_id),
        "fields": [
            {"key": d.key, "label": d.label, "type": d.type.value, "choices": d.choices or []}
            for d in await contacts.field_definitions(session, workspace_id)
        ],
        "channels": connected + [k for k in CHANNEL_KINDS if k not in connected],
        "messageable": _messageable_kinds(),
        "purposes": list(CONSENT_PURPOSES),
    }


def _parse(raw: str) -> Filter | None:
    """The builder's JSON (None: no condition yet, everyone)."""
    raw = raw.strip()
    if not raw or raw == "null":
        return None
    return parse_filter(raw)


@router.get("", response_class=HTMLResponse)
async def segment_list(
    request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    return render(
        request,
        "segments.html",
        {
            "principal": principal,
            "workspace": await workspaces.get(session, principal.workspace_id),
            "segments": await segments.list_segments(session, principal.workspace_id),
        },
    )


async def _builder(
    request: Request,
    principal: Principal,
    session: DbSession,
    *,
    segment: Any = None,
    name: str = "",
    filter_json: str = "",
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "segment_builder.html",
        {
            "principal": principal,
            "workspace": await workspaces.get(session, principal.workspace_id),
            "segment": segment,
            "name": name,
            "filter_json": filter_json,
            "catalog": await _catalog(session, principal.workspace_id),
            "errors": errors or [],
        },
        status_code=status_code,
    )


@router.get("/new", response_class=HTMLResponse)
async def new_segment(
    request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    return await _builder(request, principal, session)


@router.get("/{segment_id:int}", response_class=HTMLResponse)
async def edit_segment(
    segment_id: int, request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    segment = await segments.get(session, principal.workspace_id, segment_id)
    if segment.kind == "static":
        preview = await segments.preview(session, principal.workspace_id, segment_id, PREVIEW)
        return render(
            request,
            "segment_static.html",
            {
                "principal": principal,
                "workspace": await workspaces.get(session, principal.workspace_id),
                "segment": segment,
                "count": (await segments.count(session, principal.workspace_id, segment_id)).count,
                "rows": preview.items,
            },
        )
    filter_json = jsonx.dumps(dump_filter(segment.filter)) if segment.filter is not None else ""
    return await _builder(
        request, principal, session, segment=segment, name=segment.name, filter_json=filter_json
    )


def _problems(request: Request, exc: AppError) -> list[dict[str, str]]:
    """The error's problems in the admin's language (web/filter_problems.py)."""
    gettext = translations(request_locale(request)).gettext
    fields = exc.details.get("fields")
    if isinstance(fields, list) and fields:
        return localized(fields, gettext)
    params = {k: v for k, v in exc.details.items() if isinstance(v, str | int | float)}
    error = {"field": "", "problem": exc.message, "code": exc.code, "params": params}
    return localized([error], gettext)


@router.post("/preview", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def live_preview(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    filter: Annotated[str, Form(max_length=100_000)] = "",
) -> HTMLResponse:
    """The count and first page of what the builder holds now (HTMX, debounced). A filter
    that is not complete yet answers 200 with its problems, so the fragment is swapped in."""
    context: dict[str, Any] = {"count": None, "rows": [], "errors": []}
    workspace = await workspaces.get(session, principal.workspace_id)
    try:
        node = _parse(filter)
        if node is None:
            context["count"] = await contacts.count_contacts(session, principal.workspace_id)
            context["rows"] = await segments.list_contacts(
                session, principal.workspace_id, limit=PREVIEW
            )
        else:
            counted = await segments.count(session, principal.workspace_id, node)
            page = await segments.preview(
                session, principal.workspace_id, node, PREVIEW, now=counted.at
            )
            context["count"], context["rows"] = counted.count, page.items
    except AppError as exc:
        context["errors"] = _problems(request, exc)
    return render(request, "_segment_preview.html", {"workspace": workspace, **context})


def _form_problems(request: Request, exc: ValidationError) -> list[dict[str, str]]:
    gettext = translations(request_locale(request)).gettext
    return localized(problems(exc.errors()), gettext)


@router.post("", dependencies=[Depends(check_csrf)])
async def save_new(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    name: Annotated[str, Form(max_length=200)] = "",
    filter: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    return await _save(request, principal, runtime, None, name, filter)


@router.post("/{segment_id:int}", dependencies=[Depends(check_csrf)])
async def save_existing(
    segment_id: int,
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    name: Annotated[str, Form(max_length=200)] = "",
    filter: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    return await _save(request, principal, runtime, segment_id, name, filter)


async def _save(
    request: Request,
    principal: Principal,
    runtime: RuntimeDep,
    segment_id: int | None,
    name: str,
    filter_json: str,
) -> Response:
    errors: list[dict[str, str]]
    try:
        node = _parse(filter_json)
        if node is None:
            raise FilterInvalid.at("filter", "add at least one condition", "empty")
        async with transaction(runtime.sessions) as session:
            if segment_id is None:
                saved = await segments.create(
                    session, principal.workspace_id, SegmentCreate(name=name, filter=node)
                )
            else:
                saved = await segments.update(
                    session,
                    principal.workspace_id,
                    segment_id,
                    SegmentUpdate(name=name, filter=node),
                )
        return RedirectResponse(f"/admin/segments/{saved.id}", status_code=303)
    except ValidationError as exc:
        errors, status_code = _form_problems(request, exc), 422
    except AppError as exc:
        errors, status_code = _problems(request, exc), exc.status_code
    async with runtime.sessions() as session:
        segment = None
        if segment_id is not None:
            segment = await segments.get(session, principal.workspace_id, segment_id)
        return await _builder(
            request,
            principal,
            session,
            segment=segment,
            name=name,
            filter_json=filter_json,
            errors=errors,
            status_code=status_code,
        )


@router.post("/{segment_id:int}/delete", dependencies=[Depends(check_csrf)])
async def delete_segment(
    segment_id: int, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    async with transaction(runtime.sessions) as session:
        await segments.delete(session, principal.workspace_id, segment_id)
    return RedirectResponse("/admin/segments", status_code=303)


@router.get("/id-list", response_class=HTMLResponse)
async def id_list_form(
    request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    return render(
        request,
        "segment_id_list.html",
        {
            "principal": principal,
            "workspace": await workspaces.get(session, principal.workspace_id),
            "result": None,
            "name": "",
            "text": "",
            "error": None,
            "max_lines": MAX_ID_LINES,
        },
    )


@router.post("/id-list", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def id_list(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    name: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=MAX_ID_LINES * 40)] = "",
) -> HTMLResponse:
    result, error, status_code = None, None, 201
    try:
        data = IdListIn(name=name, text=text)
        async with transaction(runtime.sessions) as session:
            result = await segments.create_from_id_list(session, principal.workspace_id, data)
    except ValidationError as exc:
        shown = _form_problems(request, exc)
        error, status_code = "; ".join(f"{p['label']}: {p['problem']}" for p in shown), 422
    except AppError as exc:
        error = "; ".join(p["problem"] for p in _problems(request, exc))
        status_code = exc.status_code
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
    return render(
        request,
        "segment_id_list.html",
        {
            "principal": principal,
            "workspace": workspace,
            "result": result,
            "name": name if result is None else "",
            "text": text if result is None else "",
            "error": error,
            "max_lines": MAX_ID_LINES,
        },
        status_code=status_code,
    )
