"""/api/v1/workspace: the caller's own workspace."""

from __future__ import annotations

from fastapi import APIRouter

from chatcart.http_deps import ApiPrincipal, DbSession
from chatcart.workspaces import service
from chatcart.workspaces.schemas import WorkspaceOut

router = APIRouter(tags=["workspace"])


@router.get("/workspace", response_model=WorkspaceOut)
async def current_workspace(principal: ApiPrincipal, session: DbSession) -> WorkspaceOut:
    return await service.get(session, principal.workspace_id)
