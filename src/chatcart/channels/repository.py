from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.ids import IdBlocks
from chatcart.models import ChannelAccount, InboundEvent, WebhookDelivery


async def account(session: AsyncSession, account_id: int) -> ChannelAccount | None:
    return await session.get(ChannelAccount, account_id)


async def accounts_by_ids(session: AsyncSession, account_ids: set[int]) -> list[ChannelAccount]:
    if not account_ids:
        return []
    found = await session.scalars(_ACCOUNTS_BY_IDS, {"ids": sorted(account_ids)})
    return list(found.all())


# Built once (the ids as a parameter): every outbox batch reads its accounts.
_ACCOUNTS_BY_IDS = select(ChannelAccount).where(
    ChannelAccount.id.in_(bindparam("ids", expanding=True))
)


async def account_by_external(
    session: AsyncSession, kind: str, external_id: str
) -> ChannelAccount | None:
    return await session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.kind == kind, ChannelAccount.external_id == external_id
        )
    )


async def accounts_of(
    session: AsyncSession, workspace_id: int, kind: str | None = None
) -> list[ChannelAccount]:
    query = select(ChannelAccount).where(ChannelAccount.workspace_id == workspace_id)
    if kind:
        query = query.where(ChannelAccount.kind == kind)
    return list((await session.scalars(query.order_by(ChannelAccount.id))).all())


async def inbound_by_external(
    session: AsyncSession, account_id: int, external_id: str
) -> InboundEvent | None:
    return await session.scalar(
        select(InboundEvent).where(
            InboundEvent.channel_account_id == account_id,
            InboundEvent.external_id == external_id,
        )
    )


async def pending_inbound_from(
    session: AsyncSession, account_id: int, sender_external_id: str
) -> list[InboundEvent]:
    return list(
        (
            await session.scalars(
                select(InboundEvent)
                .where(
                    InboundEvent.channel_account_id == account_id,
                    InboundEvent.sender_external_id == sender_external_id,
                    InboundEvent.status == "pending",
                )
                .order_by(InboundEvent.id)
            )
        ).all()
    )


async def inbound_rows(session: AsyncSession, event_ids: list[int]) -> list[InboundEvent]:
    if not event_ids:
        return []
    query = select(InboundEvent).where(InboundEvent.id.in_(event_ids)).order_by(InboundEvent.id)
    return list((await session.scalars(query)).all())


async def lock_pending_inbound(
    session: AsyncSession, event_ids: list[int], worker_id: str
) -> set[int]:
    if not event_ids:
        return set()
    params = {"ids": event_ids, "worker": worker_id}
    return set((await session.scalars(_pending_of(), params)).all())


@cache
def _pending_of() -> Any:
    # Built once (ids and worker as parameters): a batch's hot path.
    return (
        select(InboundEvent.id)
        .where(
            InboundEvent.id.in_(bindparam("ids", expanding=True)),
            InboundEvent.status == "pending",
            InboundEvent.claimed_by == bindparam("worker"),
        )
        .with_for_update()
    )


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Raw webhook POSTs, one statement; their new ids in the order given. The keys are taken
    up front: an INSERT ... RETURNING that must keep the order runs row by row on SQLite."""
    blocks = IdBlocks(session, len(rows))
    ids = await blocks.take_many(WebhookDelivery, len(rows))
    table = cast(Table, WebhookDelivery.__table__)  # Core, not the ORM: the ingress hot path
    await session.execute(
        insert(table), [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)]
    )
    return ids
