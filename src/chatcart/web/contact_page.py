"""The admin contact page: profile, identities and their windows, phones and emails, tags,
custom fields, consent, order stats, conversation excerpts, the timeline, and merging (with the
suggested duplicates, a confirmation step, history kept)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chatcart.auth.schemas import Principal
from chatcart.contacts import service as contacts
from chatcart.conversations import service as conversations
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError, ValidationFailed
from chatcart.kit.money import format_minor
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/contacts", include_in_schema=False)
CONSENT_PURPOSES = ("marketing",)  # always shown, even before anyone was asked
_CURRENCY = {"VN": "VND", "PH": "PHP"}
EXCERPT = 5


async def _page(
    request: Request,
    principal: Principal,
    session: DbSession,
    contact_id: int,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    workspace = await workspaces.get(session, principal.workspace_id)
    detail = await contacts.detail(session, principal.workspace_id, contact_id, utcnow())
    threads = await conversations.of_contact(
        session, principal.workspace_id, contact_id, excerpt=EXCERPT
    )
    currency = _CURRENCY.get(workspace.default_region, "VND")
    purposes = list(CONSENT_PURPOSES)
    purposes += [c.purpose for c in detail.consents if c.purpose not in purposes]
    consents = {c.purpose: c for c in detail.consents}
    context: dict[str, Any] = {
        "principal": principal,
        "workspace": workspace,
        "contact": detail,
        "threads": threads,
        "total_spent": format_minor(detail.total_spent, currency),
        "purposes": purposes,
        "consents": consents,
        "error": error,
        "form": form or {},
    }
    return render(request, "contact.html", context, status_code=status_code)


def _back(contact_id: int) -> RedirectResponse:
    return RedirectResponse(f"/admin/contacts/{contact_id}", status_code=303)


@router.get("/{contact_id:int}", response_class=HTMLResponse)
async def contact_page(
    contact_id: int, request: Request, principal: AdminPrincipal, session: DbSession
) -> HTMLResponse:
    return await _page(request, principal, session, contact_id)


async def _failed(
    request: Request,
    principal: Principal,
    runtime: RuntimeDep,
    contact_id: int,
    exc: AppError,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page again with the problem said, and what was typed kept (422)."""
    async with runtime.sessions() as session:
        return await _page(
            request,
            principal,
            session,
            contact_id,
            error=exc.message,
            form=form,
            status_code=exc.status_code,
        )


@router.post("/{contact_id:int}/tags", dependencies=[Depends(check_csrf)])
async def change_tags(
    contact_id: int,
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    tag: Annotated[str, Form(max_length=100)] = "",
    action: Annotated[str, Form(pattern="^(add|remove)$")] = "add",
) -> Response:
    try:
        if not tag.strip():
            raise ValidationFailed("The tag is empty.", field="tag")
        async with transaction(runtime.sessions) as session:
            change = contacts.tag if action == "add" else contacts.untag
            await change(
                session, principal.workspace_id, [contact_id], [tag], actor=principal.email
            )
    except AppError as exc:
        return await _failed(request, principal, runtime, contact_id, exc)
    return _back(contact_id)


@router.post("/{contact_id:int}/fields", dependencies=[Depends(check_csrf)])
async def set_fields(
    contact_id: int, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    form = await request.form()
    values: dict[str, object] = {}
    typed: dict[str, str] = {}
    for name, value in form.multi_items():
        if name.startswith("field:") and isinstance(value, str):
            key = name.removeprefix("field:")
            typed[key] = value
            values[key] = value.strip()
    try:
        async with transaction(runtime.sessions) as session:
            before = await contacts.fields_of(session, contact_id)
            changed = {
                key: value for key, value in values.items() if value != _as_form(before.get(key))
            }
            if changed:
                await contacts.set_fields(
                    session, principal.workspace_id, contact_id, changed, actor=principal.email
                )
    except AppError as exc:
        return await _failed(request, principal, runtime, contact_id, exc, typed)
    return _back(contact_id)


def _as_form(value: object) -> str:
    """A stored field value as the form sends it back (unchanged fields are not rewritten)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@router.post("/{contact_id:int}/consent", dependencies=[Depends(check_csrf)])
async def set_consent(
    contact_id: int,
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    purpose: Annotated[str, Form(pattern=r"^[a-z][a-z0-9_]*$", max_length=30)],
    status: Annotated[str, Form(pattern="^(granted|revoked)$")],
) -> Response:
    try:
        async with transaction(runtime.sessions) as session:
            await contacts.set_consent(
                session,
                principal.workspace_id,
                contact_id,
                purpose,
                status,
                source=f"admin:{principal.email or principal.user_id}"[:40],
            )
    except AppError as exc:
        return await _failed(request, principal, runtime, contact_id, exc)
    return _back(contact_id)


@router.get("/{contact_id:int}/merge", response_class=HTMLResponse)
async def merge_confirm(
    contact_id: int,
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    other: int,
) -> HTMLResponse:
    """Both contacts side by side before anything moves: `other` is merged into this one."""
    now = utcnow()
    keep = await contacts.detail(session, principal.workspace_id, contact_id, now)
    gone = await contacts.detail(session, principal.workspace_id, other, now)
    return render(
        request,
        "contact_merge.html",
        {
            "principal": principal,
            "workspace": await workspaces.get(session, principal.workspace_id),
            "keep": keep,
            "gone": gone,
        },
    )


@router.post("/{contact_id:int}/merge", dependencies=[Depends(check_csrf)])
async def merge(
    contact_id: int,
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    other: Annotated[int, Form()],
) -> Response:
    try:
        async with transaction(runtime.sessions) as session:
            await contacts.merge(
                session, principal.workspace_id, contact_id, other, actor=principal.email or "admin"
            )
    except AppError as exc:
        return await _failed(request, principal, runtime, contact_id, exc)
    return _back(contact_id)
