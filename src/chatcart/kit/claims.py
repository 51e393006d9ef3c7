"""Claiming durable work rows in batches: FOR UPDATE SKIP LOCKED on PostgreSQL, the
single writer lock on SQLite. A crashed worker's claim expires and the row is taken again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.clock import utcnow


async def claim_due(
    session: AsyncSession,
    model: Any,
    *,
    ready_status: str,
    due_column: Any,
    worker_id: str,
    batch: int,
    lease_seconds: int,
) -> list[int]:
    now = utcnow()
    query = (
        select(model.id)
        .where(
            model.status == ready_status,
            due_column <= now,
            or_(model.claimed_until.is_(None), model.claimed_until < now),
        )
        .order_by(due_column, model.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    ids = list((await session.scalars(query)).all())
    if ids:
        await session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(claimed_by=worker_id, claimed_until=now + timedelta(seconds=lease_seconds))
        )
    return ids
