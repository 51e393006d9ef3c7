"""Admin CSV import and export of contacts.

Import: the upload starts a background import (contacts.run_import) and lands on its page,
where HTMX polls the progress bar until the per-row report replaces it. Export: the whole
list or a segment, with the chosen columns, streamed as UTF-8 with a BOM (Excel reads it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from chatcart.auth.schemas import Principal
from chatcart.channels import service as channels
from chatcart.contacts import service as contacts
from chatcart.contacts.schemas import ImportStatus
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError, TooLarge, ValidationFailed
from chatcart.segments import service as segments
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/contacts", include_in_schema=False)
MAX_UPLOAD = 50 * 1024 * 1024  # bytes; about 300k rows of a usual contact file
SHOWN_PROBLEMS = 500  # rows listed on the page; the CLI's --errors writes them all


# ---- import --------------------------------------------------------------------------------


async def _import_form(
    request: Request,
    principal: Principal,
    session: DbSession,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "contact_import.html",
        {
            "principal": principal,
            "workspace": await workspaces.get(session, principal.workspace_id),
            "accounts": await channels.list_accounts(session, principal.workspace_id),
            "imports": await contacts.recent_imports(session, principal.workspace_id),
            "error": error,
            "max_mb": MAX_UPLOAD // (1024 * 1024),
        },
        status_code=status_code,
    )


@router.get("/import", response_class=HTMLResponse)
async def import_form(
    request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    return await _import_form(request, principal, session)


def _tasks(request: Request) -> set[asyncio.Task[None]]:
    """Running imports of this process (a reference, so none is collected mid-way)."""
    tasks: set[asyncio.Task[None]] | None = getattr(request.app.state, "contact_imports", None)
    if tasks is None:
        tasks = set()
        request.app.state.contact_imports = tasks
    return tasks


@router.post("/import", dependencies=[Depends(check_csrf)])
async def start_import(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File()],
    channel_account: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        data = await file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise TooLarge(f"The file is larger than {MAX_UPLOAD // (1024 * 1024)} MB.")
        if not data:
            raise ValidationFailed("The file is empty.", field="file")
        account_id = int(channel_account) if channel_account.strip().isdigit() else None
        async with transaction(runtime.sessions) as session:
            if account_id is not None:  # 404 for another workspace's account
                await channels.get_account(session, account_id, principal.workspace_id)
            started = await contacts.start_import(
                session, principal.workspace_id, file.filename or "contacts.csv", principal.email
            )
    except AppError as exc:
        async with runtime.sessions() as session:
            return await _import_form(
                request, principal, session, error=exc.message, status_code=exc.status_code
            )
    task = asyncio.create_task(
        contacts.run_import(
            runtime.sessions,
            started.id,
            principal.workspace_id,
            data,
            channel_account_id=account_id,
            actor=principal.email or "import",
        )
    )
    tasks = _tasks(request)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return RedirectResponse(f"/admin/contacts/imports/{started.id}", status_code=303)


def _report_context(status: ImportStatus) -> dict[str, Any]:
    report = contacts.ImportReport.model_validate(status.report) if status.report else None
    return {"job": status, "report": report, "shown": SHOWN_PROBLEMS}


@router.get("/imports/{import_id:int}", response_class=HTMLResponse)
async def import_page(
    import_id: int, request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    status = await contacts.import_status(session, principal.workspace_id, import_id)
    return render(
        request,
        "contact_import_job.html",
        {
            "principal": principal,
            "workspace": await workspaces.get(session, principal.workspace_id),
            **_report_context(status),
        },
    )


@router.get("/imports/{import_id:int}/progress", response_class=HTMLResponse)
async def import_progress(
    import_id: int, request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    """The progress fragment; it polls itself (HTMX) only while the import runs."""
    status = await contacts.import_status(session, principal.workspace_id, import_id)
    workspace = await workspaces.get(session, principal.workspace_id)
    context = {"workspace": workspace, **_report_context(status)}
    return render(request, "_contact_import_progress.html", context)


# ---- export --------------------------------------------------------------------------------


@router.get("/export", response_class=HTMLResponse)
async def export_form(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    segment: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    return render(
        request,
        "contact_export.html",
        {
            "principal": principal,
            "workspace": await workspaces.get(session, principal.workspace_id),
            "segments": await segments.list_segments(session, principal.workspace_id),
            "segment": segment,
            "columns": await contacts.export_columns(session, principal.workspace_id),
            "default_columns": set(contacts.EXPORT_COLUMNS) - {"invalid_phones", "identities"},
            "total": await contacts.count_contacts(session, principal.workspace_id),
        },
    )


@router.get("/export.csv")
async def export_csv(
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    segment: Annotated[str, Query(max_length=20)] = "",
    columns: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Streamed: the first chunk (BOM + header) is pulled before answering, so an unknown
    column or segment is a clear error, not a broken download."""
    workspace_id = principal.workspace_id
    segment_id = int(segment) if segment.strip().isdigit() else None
    async with runtime.sessions() as session:
        if segment_id is not None:
            await segments.get(session, workspace_id, segment_id)  # 404 if not ours
        workspace = await workspaces.get(session, workspace_id)

    async def chunks() -> AsyncGenerator[str]:
        if segment_id is None:  # the whole list: a short session per batch
            async for chunk in contacts.export_csv(runtime.sessions, workspace_id, columns):
                yield chunk
            return
        # A segment: its member pages and the export's batches share one session.
        async with runtime.sessions() as session:
            members = segments.iter_members(session, workspace_id, segment_id)
            async for chunk in contacts.export_csv(session, workspace_id, columns, members):
                yield chunk

    stream = chunks()
    try:
        first = await anext(stream)
    except AppError:
        await stream.aclose()
        raise

    async def body() -> AsyncIterator[bytes]:
        yield first.encode("utf-8")
        async for chunk in stream:
            yield chunk.encode("utf-8")

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    name = f"contacts-{workspace.slug}{f'-segment{segment_id}' if segment_id else ''}-{stamp}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
