"""Queries of the flows room: flows, their published versions, conversation runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.claims import claim_due
from chatcart.models import FlowRow, FlowRun, FlowVersion


async def flows(session: AsyncSession, workspace_id: int) -> list[FlowRow]:
    query = select(FlowRow).where(FlowRow.workspace_id == workspace_id).order_by(FlowRow.key)
    return list((await session.scalars(query)).all())


async def flow(session: AsyncSession, workspace_id: int, key: str) -> FlowRow | None:
    return await session.scalar(
        select(FlowRow).where(FlowRow.workspace_id == workspace_id, FlowRow.key == key)
    )


async def last_number(session: AsyncSession, flow_id: int) -> int:
    found = await session.scalar(
        select(func.max(FlowVersion.number)).where(FlowVersion.flow_id == flow_id)
    )
    return int(found or 0)


async def published(
    session: AsyncSession, workspace_id: int, also: int | None = None
) -> list[tuple[str, int, datetime, bool]]:
    """(flow key, version id, created at, active) of every active flow's published version,
    and of version `also` (a run in progress is pinned to it) whatever its flow's state."""
    current = (FlowRow.status == "active") & (FlowVersion.number == FlowRow.published_number)
    wanted = current if also is None else current | (FlowVersion.id == also)
    query = (
        select(FlowRow.key, FlowVersion.id, FlowVersion.created_at, current)
        .join(FlowVersion, FlowVersion.flow_id == FlowRow.id)
        .where(FlowRow.workspace_id == workspace_id, wanted)
        .order_by(FlowRow.key)
    )
    return [(k, v, c, bool(a)) for k, v, c, a in (await session.execute(query)).all()]


async def version_sources(session: AsyncSession, version_ids: list[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    query = select(FlowVersion.id, FlowVersion.source).where(FlowVersion.id.in_(version_ids))
    return {vid: source for vid, source in (await session.execute(query)).all()}


async def version(session: AsyncSession, flow_id: int, number: int) -> FlowVersion | None:
    return await session.scalar(
        select(FlowVersion).where(FlowVersion.flow_id == flow_id, FlowVersion.number == number)
    )


async def flow_of_version(session: AsyncSession, version_id: int) -> FlowRow | None:
    return await session.scalar(
        select(FlowRow)
        .join(FlowVersion, FlowVersion.flow_id == FlowRow.id)
        .where(FlowVersion.id == version_id)
    )


async def run_of(session: AsyncSession, conversation_id: int) -> FlowRun | None:
    return await session.scalar(select(FlowRun).where(FlowRun.conversation_id == conversation_id))


async def runs_of(session: AsyncSession, conversation_ids: set[int]) -> list[FlowRun]:
    if not conversation_ids:
        return []
    rows = await session.scalars(_RUNS_OF, {"ids": sorted(conversation_ids)})
    return list(rows.all())


# Built once (the ids as a parameter): every inbound batch reads its conversations' runs.
_RUNS_OF = select(FlowRun).where(FlowRun.conversation_id.in_(bindparam("ids", expanding=True)))


async def run_by_id(session: AsyncSession, run_id: int) -> FlowRun | None:
    return await session.get(FlowRun, run_id, populate_existing=True)


async def delete_run(session: AsyncSession, run_id: int) -> None:
    await session.execute(delete(FlowRun).where(FlowRun.id == run_id))


async def claim_due_runs(
    session: AsyncSession, worker_id: str, batch: int, lease_seconds: int
) -> list[int]:
    return await claim_due(
        session,
        FlowRun,
        ready_status="timer",
        due_column=FlowRun.wake_at,
        worker_id=worker_id,
        batch=batch,
        lease_seconds=lease_seconds,
    )


async def runs(session: AsyncSession, run_ids: list[int]) -> list[FlowRun]:
    if not run_ids:
        return []
    query = select(FlowRun).where(FlowRun.id.in_(run_ids)).order_by(FlowRun.id)
    return list((await session.scalars(query)).all())


async def count_runs(session: AsyncSession, flow_version_ids: list[int]) -> int:
    if not flow_version_ids:
        return 0
    query = select(func.count()).where(FlowRun.flow_version_id.in_(flow_version_ids))
    return int(await session.scalar(query) or 0)
