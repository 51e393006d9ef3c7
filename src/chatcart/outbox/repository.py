from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import OutboundMessage


async def by_key(session: AsyncSession, idempotency_key: str) -> OutboundMessage | None:
    return await session.scalar(
        select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
    )


async def locked(session: AsyncSession, outbound_id: int) -> OutboundMessage | None:
    return await session.get(
        OutboundMessage, outbound_id, with_for_update=True, populate_existing=True
    )
