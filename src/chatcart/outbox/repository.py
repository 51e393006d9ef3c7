from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.claims import claim_due_rows
from chatcart.models import DeliveryAttempt, OutboundMessage

AnyRow = Row[*tuple[Any, ...]]

# Core tables for the dispatcher's hot path: rows as tuples, no ORM identity map.
OUTBOUND = cast(Table, OutboundMessage.__table__)
ATTEMPTS = cast(Table, DeliveryAttempt.__table__)


async def by_key(session: AsyncSession, idempotency_key: str) -> OutboundMessage | None:
    return await session.scalar(
        select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
    )


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert one outbound row in one statement; None when its idempotency key is taken."""
    insert_ = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = (
        insert_(OutboundMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboundMessage.id)
    )
    return await session.scalar(statement)


async def locked(session: AsyncSession, outbound_id: int) -> OutboundMessage | None:
    return await session.get(
        OutboundMessage, outbound_id, with_for_update=True, populate_existing=True
    )


RECEIPT_CLOCK_SKEW = timedelta(seconds=5)


async def receipt_targets(
    session: AsyncSession,
    channel_account_id: int,
    identity_id: int,
    watermark: datetime | None,
    mids: list[str],
) -> list[OutboundMessage]:
    conditions = []
    if watermark is not None:
        # The watermark is the platform's clock at its copy of the message, a moment
        # before our sent_at (taken once the API answered): allow for that gap.
        conditions.append(OutboundMessage.sent_at <= watermark + RECEIPT_CLOCK_SKEW)
    if mids:
        conditions.append(OutboundMessage.external_id.in_(mids))
    if not conditions:
        return []
    query = select(OutboundMessage).where(
        OutboundMessage.channel_account_id == channel_account_id,
        OutboundMessage.identity_id == identity_id,
        OutboundMessage.status.in_(("sent", "delivered")),
        or_(*conditions),
    )
    return list((await session.scalars(query)).all())


async def sent_by_us(session: AsyncSession, channel_account_id: int, key_or_mid: str) -> bool:
    found = await session.scalar(
        select(OutboundMessage.id)
        .where(
            OutboundMessage.channel_account_id == channel_account_id,
            or_(
                OutboundMessage.idempotency_key == key_or_mid,
                OutboundMessage.external_id == key_or_mid,
            ),
        )
        .limit(1)
    )
    return found is not None


async def insert_many_once(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert many outbound rows (executemany of one cached statement); keys already taken
    are left alone. Returns {idempotency_key: id} of the rows inserted now."""
    if not rows:
        return {}
    statement = _insert_once(session.get_bind().dialect.name == "sqlite")
    result = await session.execute(statement, rows)
    return {key: id_ for key, id_ in result.all()}


@cache
def _insert_once(sqlite: bool) -> Any:
    insert_ = sqlite_insert if sqlite else pg_insert
    return (
        insert_(OutboundMessage)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboundMessage.idempotency_key, OutboundMessage.id)
    )


async def statuses_locked(session: AsyncSession, ids: list[int]) -> dict[int, tuple[str, int]]:
    """(status, attempts) of these rows, locked for this transaction, in one query."""
    if not ids:
        return {}
    query = select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.attempts).where(
        OutboundMessage.id.in_(ids)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return {
        id_: (status, attempts) for id_, status, attempts in (await session.execute(query)).all()
    }


async def set_status(
    session: AsyncSession, ids: list[int], old: str, new: str, **values: str | None
) -> None:
    if ids:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.status == old)
            .values(status=new, **values)
            .execution_options(synchronize_session=False)
        )


async def update_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Update rows by primary key (ORM bulk UPDATE: one executemany per column set)."""
    if rows:
        await session.execute(update(OutboundMessage), rows)


async def insert_attempts(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Attempt rows, one executemany (Core: no keys read back, unlike an ORM flush that
    inserts them one at a time)."""
    if rows:
        await session.execute(_INSERT_ATTEMPTS, rows)


_INSERT_ATTEMPTS = insert(ATTEMPTS)  # built once: its cache key is computed once too


_SEND_COLUMNS = (
    OUTBOUND.c.id,
    OUTBOUND.c.workspace_id,
    OUTBOUND.c.channel_account_id,
    OUTBOUND.c.conversation_id,
    OUTBOUND.c.identity_id,
    OUTBOUND.c.message_id,
    OUTBOUND.c.recipient_kind,
    OUTBOUND.c.recipient_external_id,
    OUTBOUND.c.written_by,
    OUTBOUND.c.idempotency_key,
    OUTBOUND.c.purpose,
    OUTBOUND.c.content,
    OUTBOUND.c.attempts,
)


async def claimed_sends(
    session: AsyncSession, outbound_ids: list[int], worker_id: str
) -> list[AnyRow]:
    """The rows of a claim still ours (queued, claimed by this worker), with what a send
    needs, locked, in one query; in the order of `outbound_ids`."""
    if not outbound_ids:
        return []
    query = (
        select(*_SEND_COLUMNS)
        .where(
            OUTBOUND.c.id.in_(outbound_ids),
            OUTBOUND.c.status == "queued",
            OUTBOUND.c.claimed_by == worker_id,
        )
        .with_for_update()
    )
    rows = {row.id: row for row in (await session.execute(query)).all()}
    return [rows[i] for i in outbound_ids if i in rows]


async def claim_sends(
    session: AsyncSession, worker_id: str, batch: int, lease_seconds: int
) -> list[AnyRow]:
    """Claim the due rows and read what their sends need, in one statement."""
    return await claim_due_rows(
        session,
        OutboundMessage,
        ready_status="queued",
        due_column=OutboundMessage.next_attempt_at,
        worker_id=worker_id,
        batch=batch,
        lease_seconds=lease_seconds,
        columns=_SEND_COLUMNS[1:],  # the id comes first anyway
    )


async def claim_states(session: AsyncSession, outbound_ids: list[int]) -> dict[int, AnyRow]:
    """Status, claim and attempts (and where to announce) of many rows, locked, in one
    query: what recording their send results checks and moves on."""
    if not outbound_ids:
        return {}
    rows = (await session.execute(_CLAIM_STATES, {"ids": outbound_ids})).all()
    return {row.id: row for row in rows}


# Built once (the ids as a parameter): every outbox batch runs it.
_CLAIM_STATES = (
    select(
        OUTBOUND.c.id,
        OUTBOUND.c.status,
        OUTBOUND.c.claimed_by,
        OUTBOUND.c.attempts,
        OUTBOUND.c.workspace_id,
        OUTBOUND.c.conversation_id,
        OUTBOUND.c.message_id,
    )
    .where(OUTBOUND.c.id.in_(bindparam("ids", expanding=True)))
    .with_for_update()
)


async def update_by_id(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Update rows by primary key (each dict: "id" and the new values), Core: one
    executemany per set of columns. Returns the statements run."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
    for columns, group in groups.items():
        statement = _update_of(columns)
        params = [
            {"row_id": row["id"], **{f"new_{name}": row[name] for name in columns}} for row in group
        ]
        await session.execute(statement, params)
    return len(groups)


@cache
def _update_of(columns: tuple[str, ...]) -> Any:
    """UPDATE by id of these columns (a few sets, one per kind of outcome): built once."""
    return (
        update(OUTBOUND)
        .where(OUTBOUND.c.id == bindparam("row_id"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )


async def by_keys(session: AsyncSession, keys: list[str]) -> dict[str, OutboundMessage]:
    if not keys:
        return {}
    query = (
        select(OutboundMessage)
        .where(OutboundMessage.idempotency_key.in_(keys))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.idempotency_key: row for row in (await session.scalars(query)).all()}


async def conversations_holding(
    session: AsyncSession, conversation_ids: set[int], purposes: tuple[str, ...]
) -> set[int]:
    params = {"ids": sorted(conversation_ids), "purposes": list(purposes)}
    rows = await session.scalars(_HOLDING, params)
    return {c for c in rows.all() if c is not None}


# Built once (ids and purposes as parameters): every inbound batch asks.
_HOLDING = (
    select(OutboundMessage.conversation_id)
    .where(
        OutboundMessage.conversation_id.in_(bindparam("ids", expanding=True)),
        OutboundMessage.purpose.in_(bindparam("purposes", expanding=True)),
        OutboundMessage.status == "failed",
        OutboundMessage.error_code.like("policy:%"),
    )
    .distinct()
)


async def held(session: AsyncSession, conversation_id: int, purpose: str) -> list[OutboundMessage]:
    rows = await session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.conversation_id == conversation_id,
            OutboundMessage.purpose == purpose,
            OutboundMessage.status == "failed",
            OutboundMessage.error_code.like("policy:%"),
        )
        .order_by(OutboundMessage.id)
        .limit(50)
    )
    return list(rows.all())
