from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import OutboundMessage


async def by_key(session: AsyncSession, idempotency_key: str) -> OutboundMessage | None:
    return await session.scalar(
        select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
    )


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert one outbound row in one statement; None when its idempotency key is taken."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = (
        insert(OutboundMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboundMessage.id)
    )
    return await session.scalar(statement)


async def insert_many_once(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert many outbound rows (same keys each) with one statement; rows whose
    idempotency key is taken are skipped. Returns how many were inserted."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = insert(OutboundMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
    result = await session.execute(statement.returning(OutboundMessage.id), rows)
    return len(result.all())


async def locked(session: AsyncSession, outbound_id: int) -> OutboundMessage | None:
    return await session.get(
        OutboundMessage, outbound_id, with_for_update=True, populate_existing=True
    )


async def locked_many(session: AsyncSession, outbound_ids: list[int]) -> dict[int, OutboundMessage]:
    """Many rows locked for this transaction, read fresh, in one query."""
    if not outbound_ids:
        return {}
    query = (
        select(OutboundMessage)
        .where(OutboundMessage.id.in_(outbound_ids))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in (await session.scalars(query)).all()}


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
