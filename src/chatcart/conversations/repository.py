from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Table, bindparam, insert, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit import jsonx
from chatcart.models import ChannelAccount, Contact, Conversation, Message, OutboundMessage


async def lock_or_create(
    session: AsyncSession,
    *,
    workspace_id: int,
    contact_id: int,
    channel_account_id: int,
    identity_id: int,
) -> tuple[Conversation, bool]:
    """The conversation of one identity, locked for this transaction (one writer at a time)."""
    query = select(Conversation).where(Conversation.identity_id == identity_id)
    found = await session.scalar(query.with_for_update())
    if found is not None:
        return found, False
    conversation = Conversation(
        workspace_id=workspace_id,
        contact_id=contact_id,
        channel_account_id=channel_account_id,
        identity_id=identity_id,
    )
    try:
        async with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        found = await session.scalar(query.with_for_update())
        if found is None:
            raise
        return found, False
    return conversation, True


async def lock_by_id(session: AsyncSession, conversation_id: int) -> Conversation | None:
    return await session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def lock_many(session: AsyncSession, identity_ids: set[int]) -> dict[int, Conversation]:
    """The conversations of many identities, locked for this transaction, by identity."""
    if not identity_ids:
        return {}
    rows = await session.scalars(_LOCK_MANY, {"ids": sorted(identity_ids)})
    return {row.identity_id: row for row in rows.all()}


# Built once (the ids as a parameter): every inbound batch runs it.
_LOCK_MANY = (
    select(Conversation)
    .where(Conversation.identity_id.in_(bindparam("ids", expanding=True)))
    .order_by(Conversation.id)  # one lock order for every worker
    .with_for_update()
)


async def stored_pairs(session: AsyncSession, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (conversation, platform message id) pairs are stored already: one
    index look-up each. (Conversations IN (...) AND ids IN (...) would make SQLite try
    every conversation with every id: 40,000 look-ups for a batch of 200.)"""
    if not pairs:
        return set()
    wanted = sorted(pairs)
    if session.get_bind().dialect.name == "sqlite":
        rows = (await session.execute(_STORED_PAIRS_SQLITE, {"pairs": jsonx.dumps(wanted)})).all()
    else:
        rows = (await session.execute(_STORED_PAIRS, {"pairs": wanted})).all()
    return {(c, e) for c, e in rows}


# Built once (the pairs as a parameter): every inbound batch asks.
_STORED_PAIRS_SQLITE = text(
    "SELECT m.conversation_id, m.external_id FROM json_each(:pairs) AS k "
    "JOIN message AS m ON m.conversation_id = json_extract(k.value, '$[0]') "
    "AND m.external_id = json_extract(k.value, '$[1]')"
)
_STORED_PAIRS = select(Message.conversation_id, Message.external_id).where(
    tuple_(Message.conversation_id, Message.external_id).in_(bindparam("pairs", expanding=True))
)


async def message_by_external(
    session: AsyncSession, conversation_id: int, external_id: str
) -> Message | None:
    return await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.external_id == external_id
        )
    )


async def has_inbound_before(session: AsyncSession, conversation_id: int, message_id: int) -> bool:
    found = await session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "in",
            Message.id < message_id,
        )
        .limit(1)
    )
    return found is not None


def _messages() -> Select[Message, str, str | None, str | None]:
    return select(
        Message, OutboundMessage.status, OutboundMessage.error_code, OutboundMessage.error_message
    ).outerjoin(OutboundMessage, OutboundMessage.message_id == Message.id)


async def last_messages(
    session: AsyncSession, workspace_id: int, conversation_id: int, limit: int
) -> list[Row[Message, str, str | None, str | None]]:
    query = (
        _messages()
        .where(Message.workspace_id == workspace_id, Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    rows = list((await session.execute(query)).all())
    rows.reverse()
    return rows


def _conversations() -> Select[Conversation, str, str]:
    return (
        select(Conversation, Contact.name, ChannelAccount.kind)
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(ChannelAccount, ChannelAccount.id == Conversation.channel_account_id)
    )


async def conversations(
    session: AsyncSession, workspace_id: int, limit: int, offset: int
) -> list[Row[Conversation, str, str]]:
    query = (
        _conversations()
        .where(Conversation.workspace_id == workspace_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(query)).all())


async def conversation(
    session: AsyncSession, workspace_id: int, conversation_id: int
) -> Row[Conversation, str, str] | None:
    query = _conversations().where(
        Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
    )
    return (await session.execute(query)).first()


async def conversation_of_identity(session: AsyncSession, identity_id: int) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.identity_id == identity_id))


async def conversations_of_contact(
    session: AsyncSession, workspace_id: int, contact_id: int
) -> list[Row[Conversation, str, str]]:
    query = (
        _conversations()
        .where(Conversation.workspace_id == workspace_id, Conversation.contact_id == contact_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )
    return list((await session.execute(query)).all())


# Core tables for a claimed batch's writes (no ORM unit of work for its hot rows).
MESSAGES = cast(Table, Message.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)


async def insert_messages(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Messages with their keys taken ahead, one executemany."""
    if rows:
        await session.execute(_INSERT_MESSAGES, rows)


_INSERT_MESSAGES = insert(MESSAGES)  # built once: its cache key is computed once too


async def touch_many(session: AsyncSession, touched: dict[int, tuple[datetime, str]]) -> None:
    """Each conversation's last message time and preview, one executemany."""
    if not touched:
        return
    await session.execute(
        _TOUCH,
        [{"row_id": id_, "at": at, "preview": preview} for id_, (at, preview) in touched.items()],
    )


_TOUCH = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id == bindparam("row_id"))
    .values(last_message_at=bindparam("at"), last_message_preview=bindparam("preview"))
)
