"""The shop room's queries."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import Payment, ShopChat, ShopSetting


async def chat(session: AsyncSession, conversation_id: int) -> ShopChat | None:
    return await session.scalar(
        select(ShopChat).where(ShopChat.conversation_id == conversation_id).with_for_update()
    )


# Built once (the ids as a parameter): every inbound batch locks its conversations' chats.
_CHATS = (
    select(ShopChat)
    .where(ShopChat.conversation_id.in_(bindparam("ids", expanding=True)))
    .order_by(ShopChat.conversation_id)
    .with_for_update()
)


async def chats(session: AsyncSession, conversation_ids: set[int]) -> dict[int, ShopChat]:
    rows = await session.scalars(_CHATS, {"ids": sorted(conversation_ids)})
    return {row.conversation_id: row for row in rows.all()}


async def setting(session: AsyncSession, workspace_id: int) -> ShopSetting | None:
    return await session.scalar(select(ShopSetting).where(ShopSetting.workspace_id == workspace_id))


async def payment_by_token(session: AsyncSession, token: str) -> Payment | None:
    return await session.scalar(select(Payment).where(Payment.token == token).with_for_update())
