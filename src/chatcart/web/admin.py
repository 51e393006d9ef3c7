"""Admin pages: login, conversations (live), the widget snippet, language switch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from chatcart.auth import service as auth
from chatcart.channels import service as channels
from chatcart.conversations import service as conversations
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit import jsonx
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError, ValidationFailed
from chatcart.kit.textnorm import nfc
from chatcart.web.i18n import LOCALES, translations
from chatcart.web.session import AdminPrincipal, check_csrf, ensure_csrf
from chatcart.web.templating import render, request_locale
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin", include_in_schema=False)
KEEPALIVE_SECONDS = 15.0


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/admin/conversations"
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@router.get("", response_class=HTMLResponse)
async def admin_home() -> RedirectResponse:
    return RedirectResponse("/admin/conversations", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    ensure_csrf(request)
    return render(request, "login.html", {"next": _safe_next(next), "error": None, "email": ""})


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def login(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    settings = runtime.settings
    address = request.client.host if request.client else "unknown"
    key = auth.failure_key(nfc(email), address)
    async with runtime.sessions() as session:
        delay = await auth.login_delay(
            session, key, settings.login_free_failures, settings.login_max_delay_seconds
        )
    if delay:
        await asyncio.sleep(delay)  # repeated failures: each try waits longer
    async with transaction(runtime.sessions) as session:
        principal = await auth.authenticate(session, nfc(email), password, key)
    if principal is None:
        _ = translations(request_locale(request)).gettext
        return render(
            request,
            "login.html",
            {
                "next": _safe_next(next),
                "error": _("Email or password is incorrect."),
                "email": email,
            },
            status_code=401,
        )
    request.session.clear()
    request.session.update({"user_id": principal.user_id, "workspace_id": principal.workspace_id})
    ensure_csrf(request)  # a fresh token for the new session
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
async def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/admin/login", status_code=303)


@router.get("/lang/{locale}")
async def switch_language(locale: str, request: Request) -> RedirectResponse:
    referer = request.headers.get("referer")
    target = _safe_next(urlsplit(referer).path if referer else None)
    response = RedirectResponse(target, status_code=303)
    if locale in LOCALES:
        response.set_cookie("lang", locale, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/conversations", response_class=HTMLResponse)
async def conversation_list(
    request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    workspace = await workspaces.get(session, principal.workspace_id)
    items = await conversations.list_conversations(session, principal.workspace_id, limit=100)
    return render(
        request,
        "conversations.html",
        {"principal": principal, "workspace": workspace, "conversations": items, "current": None},
    )


@router.get("/conversations/rows", response_class=HTMLResponse)
async def conversation_rows(
    request: Request, principal: AdminPrincipal, session: DbSession, current: int | None = None
) -> HTMLResponse:
    items = await conversations.list_conversations(session, principal.workspace_id, limit=100)
    return render(request, "_conversation_rows.html", {"conversations": items, "current": current})


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_view(
    conversation_id: int, request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    workspace = await workspaces.get(session, principal.workspace_id)
    conversation = await conversations.get(session, principal.workspace_id, conversation_id)
    items = await conversations.list_conversations(session, principal.workspace_id, limit=100)
    messages = await conversations.messages(session, principal.workspace_id, conversation_id)
    return render(
        request,
        "conversation.html",
        {
            "principal": principal,
            "workspace": workspace,
            "conversations": items,
            "current": conversation_id,
            "conversation": conversation,
            "messages": messages,
        },
    )


@router.get("/conversations/{conversation_id}/messages", response_class=HTMLResponse)
async def conversation_messages(
    conversation_id: int, request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    messages = await conversations.messages(session, principal.workspace_id, conversation_id)
    return render(request, "_messages.html", {"messages": messages})


@router.get("/widget", response_class=HTMLResponse)
async def widget_settings(
    request: Request, principal: AdminPrincipal, session: DbSession, runtime: RuntimeDep
) -> HTMLResponse:
    workspace = await workspaces.get(session, principal.workspace_id)
    accounts = await channels.list_accounts(session, principal.workspace_id, "webchat")
    return render(
        request,
        "widget.html",
        {
            "principal": principal,
            "workspace": workspace,
            "accounts": accounts,
            "base_url": runtime.settings.base_url.rstrip("/"),
        },
    )


@router.get("/events")
async def events(principal: AdminPrincipal, runtime: RuntimeDep, request: Request) -> Response:
    """Server-sent events for this workspace; HTMX re-fetches the parts that changed."""

    async def stream() -> AsyncIterator[str]:
        async with runtime.bus.subscribe(f"workspace:{principal.workspace_id}") as queue:
            yield ": connected\n\n"
            # Subscribed only now: whatever changed since the page was rendered is fetched
            # once, so nothing falls between the render and the subscription.
            yield "event: resync\ndata: {}\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                data = jsonx.dumps(event)
                if event.get("type") == "visitor_typing":  # changes no list or thread
                    yield f"event: typing\ndata: {data}\n\n"
                    continue
                yield f"event: changed\ndata: {data}\n\n"
                if event.get("conversation_id"):
                    yield f"event: conv-{event['conversation_id']}\ndata: {data}\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/channels", response_class=HTMLResponse)
async def channel_list(
    request: Request, principal: AdminPrincipal, session: DbSession, runtime: RuntimeDep
) -> HTMLResponse:
    return await _channels_page(request, principal, session, runtime)


async def _channels_page(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    runtime: RuntimeDep,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    workspace = await workspaces.get(session, principal.workspace_id)
    accounts = await channels.list_accounts(session, principal.workspace_id)
    base = runtime.settings.base_url.rstrip("/")
    rows = []
    for account in accounts:
        row: dict[str, object] = {"account": account}
        if account.kind in {"messenger", "instagram"}:
            row["webhook_url"] = f"{base}/webhooks/{account.kind}/{account.id}"
            row["verify_token"] = await channels.verify_token_of(
                session, runtime.secrets, account.id
            )
        rows.append(row)
    return render(
        request,
        "channels.html",
        {
            "principal": principal,
            "workspace": workspace,
            "rows": rows,
            "error": error,
            "form": form or {},
        },
        status_code=status_code,
    )


@router.post("/channels/meta", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def connect_meta(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    kind: Annotated[str, Form()],
    external_id: Annotated[str, Form(max_length=200)] = "",
    page_id: Annotated[str, Form(max_length=200)] = "",
    page_token: Annotated[str, Form(max_length=2000)] = "",
    app_secret: Annotated[str, Form(max_length=500)] = "",
    verify_token: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form = {"kind": kind, "external_id": external_id, "page_id": page_id, "name": name}
    try:
        if not external_id.strip():
            raise ValidationFailed("The Page / Instagram account id is empty.")
        async with transaction(runtime.sessions) as session:
            await channels.connect_meta(
                session,
                runtime.secrets,
                workspace_id=principal.workspace_id,
                kind=kind,
                name=nfc(name),
                external_id=external_id.strip(),
                page_token=page_token,
                app_secret=app_secret,
                verify_token=verify_token or None,
                page_id=page_id.strip() or None,
            )
    except AppError as exc:
        async with runtime.sessions() as session:
            return await _channels_page(
                request, principal, session, runtime, error=exc.message, form=form, status_code=422
            )
    forget = getattr(request.app.state, "ingress", None)
    if forget is not None:
        forget.clear()
    return RedirectResponse("/admin/channels", status_code=303)
