"""/api/v1/flows: a thin router over flows.service, scoped to the token's workspace.

Documents travel as text (`source`: YAML or JSON) so comments and layout survive; errors
come back with their path and line (422, details.errors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from chatcart.flows import service
from chatcart.flows.loading import MAX_DOCUMENT_CHARS
from chatcart.flows.schemas import ContactView, FlowInput, FlowOut, Outcome, RunState, WorkspaceView
from chatcart.http_deps import ApiPrincipal, DbSession, RuntimeDep
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/flows", tags=["flows"])
_INVALID: dict[int | str, dict[str, object]] = {
    422: {"description": "The document has errors: `details.errors` lists path, line, message"}
}
_NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"description": "No such flow here"}}


class SourceIn(BaseModel):
    source: str = Field(max_length=MAX_DOCUMENT_CHARS, description="A flow or a set, YAML/JSON")


class ProblemOut(BaseModel):
    path: str
    line: int | None
    message: str


class CheckOut(BaseModel):
    ok: bool
    errors: list[ProblemOut]


class SimulateIn(SourceIn):
    state: RunState | None = Field(default=None, description="The state the last turn returned")
    input: FlowInput
    contact: ContactView = Field(default_factory=ContactView)
    now: datetime | None = None
    seed: int = 0


@router.get("", response_model=list[FlowOut], summary="List the workspace's flows")
async def list_flows(principal: ApiPrincipal, session: DbSession) -> list[FlowOut]:
    return await service.list_flows(session, principal.workspace_id)


@router.post(
    "",
    response_model=list[FlowOut],
    status_code=status.HTTP_201_CREATED,
    summary="Save the flows of a document as drafts (publish=true: and publish them)",
    responses=_INVALID,
)
async def save_flows(
    data: SourceIn,
    principal: ApiPrincipal,
    session: DbSession,
    runtime: RuntimeDep,
    publish: Annotated[bool, Query()] = False,
) -> list[FlowOut]:
    return await service.save(
        session, runtime.secrets, principal.workspace_id, data.source, publish=publish, actor="api"
    )


@router.post("/validate", response_model=CheckOut, summary="Check a document (nothing saved)")
async def validate(data: SourceIn, principal: ApiPrincipal, session: DbSession) -> CheckOut:
    known = {f.key for f in await service.list_flows(session, principal.workspace_id)}
    errors = service.validate(data.source, known_flows=known)
    problems = [ProblemOut(path=e.path, line=e.line, message=e.message) for e in errors]
    return CheckOut(ok=not errors, errors=problems)


@router.post(
    "/simulate",
    response_model=Outcome,
    summary="One turn of a draft: the actions and the next state (nothing saved, nothing sent)",
    responses=_INVALID,
)
async def simulate(data: SimulateIn, principal: ApiPrincipal, session: DbSession) -> Outcome:
    workspace = await workspaces.get(session, principal.workspace_id)
    view = WorkspaceView(
        name=workspace.name,
        locale=workspace.locale,
        timezone=workspace.timezone,
        region=workspace.default_region,
    )
    return service.simulate(
        data.source,
        data.state,
        data.input,
        now=data.now,
        seed=data.seed,
        contact=data.contact,
        workspace=view,
    )


@router.get("/export", summary="Every flow (drafts) as one YAML set")
async def export(
    principal: ApiPrincipal,
    session: DbSession,
    flow: Annotated[list[str] | None, Query(description="Only these flows")] = None,
) -> Response:
    text = await service.export(session, principal.workspace_id, flow)
    return Response(text, media_type="application/yaml; charset=utf-8")


@router.get("/{key}", response_model=FlowOut, summary="One flow", responses=_NOT_FOUND)
async def get_flow(key: str, principal: ApiPrincipal, session: DbSession) -> FlowOut:
    return await service.get(session, principal.workspace_id, key)


@router.post(
    "/{key}/publish",
    response_model=FlowOut,
    summary="Publish the draft as a new version (runs in progress keep theirs)",
    responses={**_NOT_FOUND, **_INVALID},
)
async def publish(key: str, principal: ApiPrincipal, session: DbSession) -> FlowOut:
    return await service.publish(session, principal.workspace_id, key, actor="api")


@router.post(
    "/{key}/archive",
    response_model=FlowOut,
    summary="Stop the flow from starting (conversations inside it finish)",
    responses=_NOT_FOUND,
)
async def archive(key: str, principal: ApiPrincipal, session: DbSession) -> FlowOut:
    return await service.archive(session, principal.workspace_id, key)
