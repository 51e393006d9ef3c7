"""The workspaces room's only door."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.textnorm import nfc
from chatcart.models import Workspace
from chatcart.workspaces import repository
from chatcart.workspaces.errors import SlugTaken, WorkspaceNotFound
from chatcart.workspaces.schemas import WorkspaceCreate, WorkspaceOut


async def create(session: AsyncSession, data: WorkspaceCreate) -> WorkspaceOut:
    if await repository.by_slug(session, data.slug):
        raise SlugTaken(f"a workspace with slug {data.slug!r} already exists", slug=data.slug)
    workspace = Workspace(
        name=nfc(data.name),
        slug=data.slug,
        timezone=data.timezone,
        locale=data.locale,
        default_region=data.default_region,
    )
    session.add(workspace)
    await session.flush()
    return WorkspaceOut.model_validate(workspace)


async def get(session: AsyncSession, workspace_id: int) -> WorkspaceOut:
    workspace = await repository.by_id(session, workspace_id)
    if workspace is None:
        raise WorkspaceNotFound(f"no workspace {workspace_id}")
    return WorkspaceOut.model_validate(workspace)


async def find(session: AsyncSession, slug: str) -> WorkspaceOut | None:
    workspace = await repository.by_slug(session, slug)
    return WorkspaceOut.model_validate(workspace) if workspace else None


async def get_by_slug(session: AsyncSession, slug: str) -> WorkspaceOut:
    found = await find(session, slug)
    if found is None:
        raise WorkspaceNotFound(f"no workspace with slug {slug!r}", slug=slug)
    return found


async def list_all(session: AsyncSession) -> list[WorkspaceOut]:
    return [WorkspaceOut.model_validate(w) for w in await repository.all_ordered(session)]
