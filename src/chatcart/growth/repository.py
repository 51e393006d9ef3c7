from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import PostComment


async def comment(session: AsyncSession, account_id: int, comment_id: str) -> PostComment | None:
    return await session.scalar(
        select(PostComment).where(
            PostComment.channel_account_id == account_id, PostComment.comment_id == comment_id
        )
    )
