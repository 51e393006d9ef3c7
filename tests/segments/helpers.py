"""Small ORM writers for the segments tests (rows straight into the tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.textnorm import fold
from chatcart.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    ContactPoint,
    ContactTag,
    FieldDefinition,
    Tag,
)
from tests.segments.world import NOW


async def account(session: AsyncSession, workspace_id: int, kind: str, n: int = 0) -> int:
    row = ChannelAccount(
        workspace_id=workspace_id, kind=kind, name=kind, external_id=f"{kind}-{workspace_id}-{n}"
    )
    session.add(row)
    await session.flush()
    return row.id


async def contact(session: AsyncSession, workspace_id: int, name: str, **values: Any) -> int:
    row = Contact(workspace_id=workspace_id, name=name, search_text=fold(name), **values)
    session.add(row)
    await session.flush()
    return row.id


async def identity(
    session: AsyncSession,
    workspace_id: int,
    contact_id: int,
    account_id: int,
    external_id: str,
    last_inbound_at: datetime | None = None,
    reachable: bool = True,
) -> None:
    session.add(
        ContactIdentity(
            workspace_id=workspace_id,
            contact_id=contact_id,
            channel_account_id=account_id,
            external_id=external_id,
            last_inbound_at=last_inbound_at,
            reachable=reachable,
        )
    )
    await session.flush()


async def phone(
    session: AsyncSession, workspace_id: int, contact_id: int, value: str, valid: bool = True
) -> None:
    session.add(
        ContactPoint(
            workspace_id=workspace_id,
            contact_id=contact_id,
            kind="phone",
            value=value,
            raw=value,
            valid=valid,
            source="manual",
            first_seen_at=NOW,
            last_seen_at=NOW,
        )
    )
    await session.flush()


async def tag(session: AsyncSession, workspace_id: int, contact_id: int, name: str) -> None:
    found = await session.scalar(
        select(Tag).where(Tag.workspace_id == workspace_id, Tag.key == fold(name))
    )
    if found is None:
        found = Tag(workspace_id=workspace_id, name=name, key=fold(name))
        session.add(found)
        await session.flush()
    session.add(ContactTag(contact_id=contact_id, tag_id=found.id))
    await session.flush()


async def field(
    session: AsyncSession,
    workspace_id: int,
    key: str,
    type_: str,
    choices: list[str] | None = None,
) -> int:
    row = FieldDefinition(
        workspace_id=workspace_id, key=key, label=key, type=type_, choices=choices
    )
    session.add(row)
    await session.flush()
    return row.id
