from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import ApiToken, LoginFailure, Membership, User


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def membership(session: AsyncSession, user_id: int, workspace_id: int) -> Membership | None:
    return await session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.workspace_id == workspace_id
        )
    )


async def first_membership(session: AsyncSession, user_id: int) -> Membership | None:
    return await session.scalar(
        select(Membership).where(Membership.user_id == user_id).order_by(Membership.id).limit(1)
    )


async def active_token(session: AsyncSession, token_hash: str) -> ApiToken | None:
    return await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    )


async def count_failures(session: AsyncSession, key: str, since: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == key, LoginFailure.failed_at >= since)
    )
    return int(count or 0)


async def clear_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key == key))


async def prune_failures(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at < before))
