from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.models import Contact, ContactIdentity


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
