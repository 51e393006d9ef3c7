from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import Workspace


async def by_slug(session: AsyncSession, slug: str) -> Workspace | None:
    return await session.scalar(select(Workspace).where(Workspace.slug == slug))


async def by_id(session: AsyncSession, workspace_id: int) -> Workspace | None:
    return await session.get(Workspace, workspace_id)


async def all_ordered(session: AsyncSession) -> list[Workspace]:
    return list((await session.scalars(select(Workspace).order_by(Workspace.id))).all())
