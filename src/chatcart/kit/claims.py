"""Claiming durable work rows in batches: FOR UPDATE SKIP LOCKED on PostgreSQL, the
single writer lock on SQLite. A crashed worker's claim expires and the row is taken again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Integer, Row, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.clock import utcnow


@cache
def _claim_statement(
    model: Any, ready_status: str, due_column: Any, columns: tuple[Any, ...], sqlite: bool
) -> Any:
    """UPDATE ... WHERE id IN (the due ones) RETURNING, built once per kind of row with
    its values as parameters (now, batch, worker, until): building the expression is most
    of a claim's time when a batch is small."""
    now: Any = bindparam("now")  # typed by the column it meets
    due = (
        select(model.id)
        .where(
            model.status == ready_status,
            due_column <= now,
            or_(model.claimed_until.is_(None), model.claimed_until < now),
        )
        .order_by(due_column, model.id)
        .limit(bindparam("batch", type_=Integer))
    )
    if not sqlite:
        due = due.with_for_update(skip_locked=True)
    return (
        update(model)
        .where(model.id.in_(due))
        .values(claimed_by=bindparam("worker"), claimed_until=bindparam("until"))
        .returning(model.id, due_column.label("claim_due_at"), *columns)
        .execution_options(synchronize_session=False)
    )


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
    statement = _claim_statement(model, ready_status, due_column, tuple(columns), sqlite)
    now = utcnow()
    params = {
        "now": now,
        "batch": batch,
        "worker": worker_id,
        "until": now + timedelta(seconds=lease_seconds),
    }
    rows = list((await session.execute(statement, params)).all())
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
