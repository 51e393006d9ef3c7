"""The conversations room's only door."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.conversations import engine, flow_turn, posting, repository
from chatcart.conversations.schemas import ConversationOut, MessageOut
from chatcart.kit.errors import NotFound
from chatcart.models import Conversation, Message

apply_inbound = engine.apply
apply_inbound_many = engine.apply_many
# resume(session, effects, run_id, worker_id, data) -> bool: a claimed flow run goes on.
resume_flow = flow_turn.resume
# post(session, effects, workspace_id=, conversation_id=, content=, key=, purpose=) -> bool:
# say something in a conversation outside a turn (an order's news), through the outbox.
post = posting.post


def _conversation_out(row: Row[Conversation, str, str]) -> ConversationOut:
    conversation, contact_name, kind = row
    return ConversationOut(
        id=conversation.id,
        workspace_id=conversation.workspace_id,
        contact_id=conversation.contact_id,
        contact_name=contact_name,
        channel_account_id=conversation.channel_account_id,
        channel=kind,
        status=conversation.status,
        bot_paused=conversation.bot_paused,
        last_message_at=conversation.last_message_at,
        last_message_preview=conversation.last_message_preview,
        created_at=conversation.created_at,
    )


def _message_out(row: Row[Message, str, str | None, str | None]) -> MessageOut:
    message, outbound_status, error_code, error_message = row
    error = f"{error_code}: {error_message}" if error_code else error_message
    content: dict[str, Any] = message.content
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        direction=message.direction,
        sender=message.sender,
        external_id=message.external_id,
        text=message.text,
        content=content,
        status=outbound_status or ("received" if message.direction == "in" else "queued"),
        error=error,
        created_at=message.created_at,
    )


async def list_conversations(
    session: AsyncSession, workspace_id: int, *, limit: int = 50, offset: int = 0
) -> list[ConversationOut]:
    rows = await repository.conversations(session, workspace_id, limit, offset)
    return [_conversation_out(row) for row in rows]


async def get(session: AsyncSession, workspace_id: int, conversation_id: int) -> ConversationOut:
    row = await repository.conversation(session, workspace_id, conversation_id)
    if row is None:
        raise NotFound(f"no conversation {conversation_id}")
    return _conversation_out(row)


async def messages(
    session: AsyncSession, workspace_id: int, conversation_id: int, *, limit: int = 200
) -> list[MessageOut]:
    await get(session, workspace_id, conversation_id)  # 404 outside the caller's workspace
    rows = await repository.last_messages(session, workspace_id, conversation_id, limit)
    return [_message_out(row) for row in rows]


async def identity_messages(
    session: AsyncSession, workspace_id: int, identity_id: int, *, limit: int = 200
) -> list[MessageOut]:
    """The transcript one channel identity sees (the widget's history on reconnect)."""
    conversation = await repository.conversation_of_identity(session, identity_id)
    if conversation is None or conversation.workspace_id != workspace_id:
        return []
    rows = await repository.last_messages(session, workspace_id, conversation.id, limit)
    return [_message_out(row) for row in rows]


async def of_contact(
    session: AsyncSession, workspace_id: int, contact_id: int, *, excerpt: int = 5
) -> list[tuple[ConversationOut, list[MessageOut]]]:
    """A contact's conversations (latest first), each with its last `excerpt` messages
    (the contact page's excerpts)."""
    found: list[tuple[ConversationOut, list[MessageOut]]] = []
    for row in await repository.conversations_of_contact(session, workspace_id, contact_id):
        conversation = _conversation_out(row)
        rows = await repository.last_messages(session, workspace_id, conversation.id, excerpt)
        found.append((conversation, [_message_out(r) for r in rows]))
    return found
