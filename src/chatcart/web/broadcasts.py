"""Admin broadcasts: list, composer with live preview, plan, start / pause / resume /
cancel, a live progress bar, the ledger with filters and CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from chatcart.broadcasts import service as broadcasts
from chatcart.broadcasts.errors import BroadcastInvalid, SpinTextInvalid
from chatcart.broadcasts.schemas import BroadcastCreate, BroadcastPurpose, Throttle
from chatcart.channels import service as channels
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.clock import as_utc
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.kit.errors import AppError
from chatcart.segments import service as segments
from chatcart.web.session import AdminPrincipal, check_csrf, ensure_csrf
from chatcart.web.templating import render
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/broadcasts", include_in_schema=False)
PAGE = 50
STATUSES = (
    "pending",
    "sending",
    "sent",
    "delivered",
    "read",
    "skipped",
    "failed",
    "unknown",
    "cancelled",
)


def N_(message: str) -> str:
    return message


# Shown words for statuses and purposes (templates call _(labels[value])).
LABELS = {
    "draft": N_("Draft"),
    "scheduled": N_("Scheduled"),
    "running": N_("Sending"),
    "paused": N_("Paused"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
    "pending": N_("Waiting"),
    "sending": N_("In flight"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "read": N_("Read"),
    "skipped": N_("Skipped"),
    "failed": N_("Failed"),
    "unknown": N_("Unknown (in flight at a crash)"),
    "promotion": N_("Promotion"),
    "order_update": N_("Order update"),
    "event_reminder": N_("Event reminder"),
    "account_update": N_("Account update"),
    "human_follow_up": N_("Follow-up by a person"),
}
ACTIONS = {
    "start": broadcasts.start,
    "pause": broadcasts.pause,
    "resume": broadcasts.resume,
    "cancel": broadcasts.cancel,
}
AGAIN = {"retry-failed": broadcasts.retry_failed, "resend-unknown": broadcasts.resend_unknown}


async def _base(session: DbSession, principal: AdminPrincipal) -> dict[str, Any]:
    return {
        "principal": principal,
        "workspace": await workspaces.get(session, principal.workspace_id),
        "labels": LABELS,
    }


@router.get("", response_class=HTMLResponse)
async def broadcast_list(
    request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    rows = await broadcasts.list_broadcasts(session, principal.workspace_id)
    return render(request, "broadcasts.html", {**await _base(session, principal), "rows": rows})


async def _composer(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    form: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ensure_csrf(request)
    context = {
        **await _base(session, principal),
        "accounts": [
            a
            for a in await channels.list_accounts(session, principal.workspace_id)
            if a.kind != "webchat"
        ],
        "segments": await segments.list_segments(session, principal.workspace_id),
        "purposes": list(BroadcastPurpose),
        "form": form,
        "error": error,
    }
    return render(request, "broadcast_new.html", context, status_code=status_code)


@router.get("/new", response_class=HTMLResponse)
async def new_broadcast(
    request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    form = {"text": "{{Chào|Xin chào}} {{first_name}}, ", "frequency_cap_hours": 24}
    return await _composer(request, principal, session, form)


@router.post("/preview", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def preview(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    text: Annotated[str, Form(max_length=2000)] = "",
    segment_id: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The composer's live preview: renderings for real contacts, variants, errors."""
    context: dict[str, Any] = {"text": text, "error": None, "position": None, "out": None}
    segment = int(segment_id) if segment_id.isdigit() else None
    if text.strip():
        try:
            context["out"] = await broadcasts.preview(
                session, principal.workspace_id, text, segment_id=segment, samples=5
            )
        except SpinTextInvalid as exc:
            context["error"] = exc.details.get("hint") or exc.message
            context["position"] = exc.details.get("position")
    return render(request, "_broadcast_preview.html", context)


def _hour(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _number(value: str) -> float | None:
    try:
        return float(value) if value.strip() else None
    except ValueError:
        return None


@router.post("", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def create(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    session: DbSession,
    name: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
    purpose: Annotated[str, Form(max_length=30)] = "",
    segment_id: Annotated[str, Form()] = "",
    channel_account_ids: Annotated[list[int] | None, Form()] = None,
    quick_replies: Annotated[str, Form(max_length=2000)] = "",
    image_url: Annotated[str, Form(max_length=2000)] = "",
    batch_size: Annotated[str, Form(max_length=10)] = "",
    pause_seconds: Annotated[str, Form(max_length=10)] = "",
    jitter_seconds: Annotated[str, Form(max_length=10)] = "",
    max_per_second: Annotated[str, Form(max_length=10)] = "",
    frequency_cap_hours: Annotated[str, Form(max_length=10)] = "24",
    quiet_start_hour: Annotated[str, Form(max_length=2)] = "",
    quiet_end_hour: Annotated[str, Form(max_length=2)] = "",
    scheduled_at: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    form = {
        "name": name,
        "text": text,
        "purpose": purpose,
        "segment_id": int(segment_id) if segment_id.isdigit() else None,
        "channel_account_ids": channel_account_ids or [],
        "quick_replies": quick_replies,
        "image_url": image_url,
        "batch_size": batch_size,
        "pause_seconds": pause_seconds,
        "jitter_seconds": jitter_seconds,
        "max_per_second": max_per_second,
        "frequency_cap_hours": frequency_cap_hours,
        "quiet_start_hour": quiet_start_hour,
        "quiet_end_hour": quiet_end_hour,
        "scheduled_at": scheduled_at,
    }
    if form["segment_id"] is None:
        return await _composer(
            request, principal, session, form, "Choose who receives it (a segment).", 422
        )
    try:
        batch = _number(batch_size)
        data = BroadcastCreate(
            name=name,
            channel_account_ids=channel_account_ids or [],
            segment_id=form["segment_id"] or 0,
            text=text,
            quick_replies=[q.strip() for q in quick_replies.splitlines() if q.strip()],
            image_url=image_url.strip() or None,
            purpose=BroadcastPurpose(purpose) if purpose in set(BroadcastPurpose) else purpose,
            throttle=Throttle(
                batch_size=int(batch) if batch else None,
                pause_seconds=_number(pause_seconds) or 0.0,
                jitter_seconds=_number(jitter_seconds) or 0.0,
                max_per_second=_number(max_per_second),
                frequency_cap_hours=int(_number(frequency_cap_hours) or 0),
                quiet_start_hour=_hour(quiet_start_hour),
                quiet_end_hour=_hour(quiet_end_hour),
            ),
        )
        # One connection at a time (SQLite's pool holds one): the request's own session is
        # touched only after this transaction, to show the form again.
        async with transaction(runtime.sessions) as tx:
            workspace = await workspaces.get(tx, principal.workspace_id)
            data.scheduled_at = _local_time(scheduled_at, workspace.timezone)
            out = await broadcasts.create(tx, principal.workspace_id, data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return await _composer(
            request, principal, session, form, f"{where}: {first['msg']}", status_code=422
        )
    except AppError as exc:
        return await _composer(
            request, principal, session, form, exc.message, status_code=exc.status_code
        )
    return RedirectResponse(f"/admin/broadcasts/{out.id}", status_code=303)


def _local_time(value: str, timezone: str) -> datetime | None:
    """A datetime-local field, in the workspace's time zone."""
    if not value.strip():
        return None
    try:
        local = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BroadcastInvalid("the schedule is not a date and time", field="scheduled_at") from exc
    return as_utc(local.replace(tzinfo=ZoneInfo(timezone)))


@router.get("/{broadcast_id}", response_class=HTMLResponse)
async def detail(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    broadcast_id: int,
    status: Annotated[str | None, Query(max_length=12)] = None,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
    order_days: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    ensure_csrf(request)
    ws = principal.workspace_id
    row = await broadcasts.get(session, ws, broadcast_id)
    days = _order_days(order_days)
    context: dict[str, Any] = {
        **await _base(session, principal),
        "b": row,
        "progress": await broadcasts.progress(session, ws, broadcast_id),
        "report": await broadcasts.report(session, ws, broadcast_id, days)
        if row.started_at is not None
        else None,
        "plan": await broadcasts.plan(session, ws, broadcast_id)
        if row.status in {"draft", "scheduled"}
        else None,
        **await _ledger(session, ws, broadcast_id, status, page),
        "error": request.query_params.get("error"),
    }
    return render(request, "broadcast.html", context)


def _order_days(raw: str | None) -> int:
    """The report's "orders within N days": a bad N shows the default, never an error page."""
    try:
        days = int(raw) if raw else broadcasts.DEFAULT_ORDER_DAYS
    except ValueError:
        return broadcasts.DEFAULT_ORDER_DAYS
    return days if 0 <= days <= broadcasts.MAX_ORDER_DAYS else broadcasts.DEFAULT_ORDER_DAYS


async def _ledger(
    session: DbSession, ws: int, broadcast_id: int, status: str | None, page: int
) -> dict[str, Any]:
    chosen = status if status in STATUSES else None
    rows = await broadcasts.ledger(
        session, ws, broadcast_id, status=chosen, offset=page * PAGE, limit=PAGE + 1
    )
    return {
        "ledger": rows[:PAGE],
        "has_next": len(rows) > PAGE,
        "page": page,
        "status": chosen,
        "statuses": STATUSES,
    }


@router.get("/{broadcast_id}/progress", response_class=HTMLResponse)
async def progress(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    broadcast_id: int,
    was: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    """The progress bar alone (polled by the page while the broadcast runs). When the
    status changed since the page was drawn, the whole page reloads (its buttons and
    ledger follow the new status)."""
    ws = principal.workspace_id
    row = await broadcasts.get(session, ws, broadcast_id)
    context = {
        "b": row,
        "progress": await broadcasts.progress(session, ws, broadcast_id),
        "labels": LABELS,
    }
    response = render(request, "_broadcast_progress.html", context)
    if was is not None and was != row.status:
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/{broadcast_id}/ledger", response_class=HTMLResponse)
async def ledger_rows(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    broadcast_id: int,
    status: Annotated[str | None, Query(max_length=12)] = None,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    ws = principal.workspace_id
    context = {
        "b": await broadcasts.get(session, ws, broadcast_id),
        "labels": LABELS,
        **await _ledger(session, ws, broadcast_id, status, page),
    }
    return render(request, "_broadcast_ledger.html", context)


@router.get("/{broadcast_id}/ledger.csv")
async def ledger_csv(
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    broadcast_id: int,
    status: Annotated[str | None, Query(max_length=12)] = None,
) -> Response:
    ws = principal.workspace_id
    async with runtime.sessions() as session:
        await broadcasts.get(session, ws, broadcast_id)  # 404 before the stream starts

    async def body() -> AsyncIterator[bytes]:
        yield "\ufeff".encode()  # Excel reads UTF-8 with a BOM
        async with runtime.sessions() as session:
            chosen = status if status in STATUSES else None
            async for chunk in broadcasts.ledger_csv(session, ws, broadcast_id, status=chosen):
                yield chunk.encode()

    headers = {"Content-Disposition": f'attachment; filename="broadcast-{broadcast_id}.csv"'}
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=headers)


@router.post("/{broadcast_id}/{action}", dependencies=[Depends(check_csrf)])
async def act(
    principal: AdminPrincipal, runtime: RuntimeDep, broadcast_id: int, action: str
) -> Response:
    effects = Effects()
    target = f"/admin/broadcasts/{broadcast_id}"
    try:
        async with transaction(runtime.sessions) as session:
            if action in ACTIONS:
                await ACTIONS[action](session, effects, principal.workspace_id, broadcast_id)
            elif action in AGAIN:
                await AGAIN[action](session, effects, principal.workspace_id, broadcast_id)
            else:
                return Response(status_code=404)
    except AppError as exc:
        return RedirectResponse(f"{target}?error={quote(exc.message)}", status_code=303)
    await effects.flush(runtime.bus)
    return RedirectResponse(target, status_code=303)
