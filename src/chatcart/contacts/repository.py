from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import Contact, ContactIdentity, OptinToken


async def identity(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> ContactIdentity | None:
    return await session.scalar(
        select(ContactIdentity).where(
            ContactIdentity.channel_account_id == channel_account_id,
            ContactIdentity.external_id == external_id,
        )
    )


async def contact(session: AsyncSession, workspace_id: int, contact_id: int) -> Contact | None:
    return await session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.workspace_id == workspace_id)
    )


async def identity_by_id(session: AsyncSession, identity_id: int) -> ContactIdentity | None:
    return await session.get(ContactIdentity, identity_id)


async def known_external_ids(
    session: AsyncSession, channel_account_id: int, external_ids: set[str]
) -> set[str]:
    if not external_ids:
        return set()
    rows = await session.scalars(
        select(ContactIdentity.external_id).where(
            ContactIdentity.channel_account_id == channel_account_id,
            ContactIdentity.external_id.in_(external_ids),
        )
    )
    return set(rows.all())


async def optin(session: AsyncSession, identity_id: int, topic: str) -> OptinToken | None:
    return await session.scalar(
        select(OptinToken).where(OptinToken.identity_id == identity_id, OptinToken.topic == topic)
    )
