"""Claiming durable work rows in batches: FOR UPDATE SKIP LOCKED on PostgreSQL, the
single writer lock on SQLite. A crashed worker's claim expires and the row is taken again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.clock import utcnow


def _due(model: Any, ready_status: str, due_column: Any, batch: int, sqlite: bool) -> Any:
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
    return query if sqlite else query.with_for_update(skip_locked=True)


async def claim_due_rows(
    session: AsyncSession,
    model: Any,
    *,
    ready_status: str,
    due_column: Any,
    worker_id: str,
    batch: int,
    lease_seconds: int,
    columns: Sequence[Any],
) -> list[Row[Any]]:
    """`claim_due` and the read of what was claimed as one statement (UPDATE ... WHERE id
    IN (the due ones) RETURNING `columns`): the claimed rows, in due order."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    until = utcnow() + timedelta(seconds=lease_seconds)
    statement = (
        update(model)
        .where(model.id.in_(_due(model, ready_status, due_column, batch, sqlite)))
        .values(claimed_by=worker_id, claimed_until=until)
        .returning(model.id, due_column.label("claim_due_at"), *columns)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.execute(statement)).all())
    rows.sort(key=lambda row: (row.claim_due_at, row.id))
    return rows


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
    """The ids of up to `batch` due rows, now claimed by `worker_id`, in due order."""
    rows = await claim_due_rows(
        session,
        model,
        ready_status=ready_status,
        due_column=due_column,
        worker_id=worker_id,
        batch=batch,
        lease_seconds=lease_seconds,
        columns=(),
    )
    return [row.id for row in rows]
