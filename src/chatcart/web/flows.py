"""Admin bot flows: the list (publish, archive), and a YAML editor that validates as you
type, with every error at its line, draws the flow as a graph (SVG made on the server) and
has a simulator: the seller chats with the draft. The simulator's session is round-tripped
in the page, encrypted and authenticated with the workspace secret box (nothing stored)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from chatcart.flows import service as flows
from chatcart.flows.errors import FlowInvalid
from chatcart.flows.loading import FlowError
from chatcart.flows.schemas import FlowInput, SimSession, WorkspaceView
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.db import transaction
from chatcart.kit.textnorm import nfc
from chatcart.runtime import Runtime
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/flows", include_in_schema=False)
MAX_SOURCE = 200_000

STARTER = """\
id: new-flow
name: New flow
default_language: vi
triggers:
  - type: keyword
    any_of: ["khuyến mãi", "sale"]
start: hello
steps:
  hello:
    type: send
    text:
      vi: "Chào {{first_name}}! Hôm nay shop giảm 10% cho bạn 🎉"
      en: "Hi {{first_name}}! 10% off for you today 🎉"
"""

Source = Annotated[str, Form(max_length=MAX_SOURCE)]
SIM_CHANNEL = "messenger"  # what the simulated conversation pretends to be


async def _page(
    request: Request, session: DbSession, principal: AdminPrincipal, **extra: Any
) -> HTMLResponse:
    context = {
        "principal": principal,
        "workspace": await workspaces.get(session, principal.workspace_id),
        "flows": await flows.list_flows(session, principal.workspace_id),
        "error": None,
        **extra,
    }
    return render(request, "flows.html", context, status_code=422 if context["error"] else 200)


@router.get("", response_class=HTMLResponse)
async def flow_list(request: Request, principal: AdminPrincipal, session: DbSession) -> Response:
    return await _page(request, session, principal)


def _editor(
    request: Request,
    principal: AdminPrincipal,
    workspace: Any,
    source: str,
    *,
    flow: Any = None,
    errors: list[FlowError] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "principal": principal,
        "workspace": workspace,
        "flow": flow,
        "source": source,
        "errors": errors or [],
        "checked": errors is not None,
        "graph": _graph(source, errors or []),
        "sim": SimSession(workspace_id=principal.workspace_id),
        "sim_token": "",
        "sim_problem": "",
    }
    return render(request, "flow_edit.html", context, status_code=status_code)


def _graph(source: str, errors: list[FlowError]) -> Markup:
    # The SVG is built with ElementTree, which escapes every text and attribute.
    return Markup(flows.graph_svg(source, errors))  # noqa: S704


@router.get("/new", response_class=HTMLResponse)
async def flow_new(request: Request, principal: AdminPrincipal, session: DbSession) -> Response:
    workspace = await workspaces.get(session, principal.workspace_id)
    return _editor(request, principal, workspace, STARTER)


@router.get("/{key}", response_class=HTMLResponse)
async def flow_edit(
    key: str, request: Request, principal: AdminPrincipal, session: DbSession
) -> Response:
    flow = await flows.get(session, principal.workspace_id, key)  # 404 outside the workspace
    workspace = await workspaces.get(session, principal.workspace_id)
    return _editor(request, principal, workspace, flow.draft, flow=flow)


@router.post("/check", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def flow_check(
    request: Request, principal: AdminPrincipal, session: DbSession, source: Source = ""
) -> Response:
    """The editor's errors as you type (an HTMX fragment)."""
    known = {f.key for f in await flows.list_flows(session, principal.workspace_id)}
    errors = flows.validate(source, known_flows=known)
    context = {"errors": errors, "checked": True, "graph": _graph(source, errors), "oob": True}
    return render(request, "_flow_check.html", context)


def _sim_token(runtime: Runtime, sim: SimSession) -> str:
    return runtime.secrets.encrypt(sim.model_dump_json())


def _sim_of(runtime: Runtime, token: str, workspace_id: int) -> SimSession:
    """The session the page sent back; a fresh one when there is none, it was tampered
    with (it does not decrypt), or it belongs to another workspace."""
    if token:
        try:
            sim = SimSession.model_validate_json(runtime.secrets.decrypt(token))
        except (ValueError, ValidationError):
            sim = None
        if sim is not None and sim.workspace_id == workspace_id:
            return sim
    return SimSession(workspace_id=workspace_id)


@router.post("/simulate", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def flow_simulate(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    source: Source = "",
    sim: Annotated[str, Form(max_length=200_000)] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
    payload: Annotated[str, Form(max_length=1000)] = "",
    action: Annotated[str, Form(pattern="^(send|restart|wake)$")] = "send",
) -> Response:
    """One turn of the simulator (an HTMX fragment: the whole panel, redrawn)."""
    session_ = _sim_of(runtime, sim, principal.workspace_id)
    problem = ""
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
        try:
            draft = await flows.simulation_flows(session, principal.workspace_id, source)
        except FlowInvalid:
            draft = None
    view = WorkspaceView(
        name=workspace.name,
        locale=workspace.locale,
        timezone=workspace.timezone,
        region=workspace.default_region,
    )
    data = None
    if action == "restart":
        session_ = SimSession(workspace_id=principal.workspace_id)
    elif action == "wake":
        data = FlowInput(kind="wake", channel=SIM_CHANNEL)
    elif payload:
        title = session_.chips_title(payload)
        data = FlowInput(kind="postback", text=title, payload=payload, channel=SIM_CHANNEL)
    elif text.strip():
        data = FlowInput(kind="message", text=nfc(text.strip()), channel=SIM_CHANNEL)
    else:
        problem = "empty"
    if data is not None and draft is None:
        problem = "invalid"
    elif data is not None and draft is not None:
        session_ = flows.simulate_chat(session_, draft, data, workspace=view)
    context = {
        "principal": principal,
        "workspace": workspace,
        "sim": session_,
        "sim_token": _sim_token(runtime, session_),
        "sim_problem": problem,
    }
    return render(request, "_flow_simulator.html", context, status_code=200)


@router.post("", dependencies=[Depends(check_csrf)])
async def flow_save(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    source: Source = "",
    publish: Annotated[str, Form(pattern="^(|1)$")] = "",
) -> Response:
    """Save the editor's document as draft(s), published too with the publish button."""
    try:
        async with transaction(runtime.sessions) as session:
            saved = await flows.save(
                session,
                runtime.secrets,
                principal.workspace_id,
                source,
                publish=bool(publish),
                actor=principal.email,
            )
    except FlowInvalid:  # shown again with every problem at its line
        async with runtime.sessions() as session:
            workspace = await workspaces.get(session, principal.workspace_id)
            known = {f.key for f in await flows.list_flows(session, principal.workspace_id)}
        errors = flows.validate(source, known_flows=known)
        return _editor(request, principal, workspace, source, errors=errors, status_code=422)
    target = f"/admin/flows/{saved[0].key}" if len(saved) == 1 else "/admin/flows"
    return RedirectResponse(target, status_code=303)


@router.post("/{key}/{action}", dependencies=[Depends(check_csrf)])
async def flow_action(
    key: str, action: str, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    if action not in {"publish", "archive"}:
        return Response(status_code=404)
    try:
        async with transaction(runtime.sessions) as session:
            if action == "publish":
                await flows.publish(session, principal.workspace_id, key, actor=principal.email)
            else:
                await flows.archive(session, principal.workspace_id, key)
    except FlowInvalid as exc:
        async with runtime.sessions() as session:
            return await _page(request, session, principal, error=exc.message, failed=key)
    return RedirectResponse("/admin/flows", status_code=303)
