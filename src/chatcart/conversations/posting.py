"""Messages said in a conversation outside a bot turn (an order's news), and those that
policy held back, sent again once the person writes (the window is open then)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.channels.base import MessageContent
from chatcart.conversations import flow_turn, repository
from chatcart.conversations.schemas import RESENT_PURPOSES
from chatcart.kit.effects import Effects
from chatcart.models import Conversation
from chatcart.outbox import service as outbox
from chatcart.workspaces import service as workspaces

_AGAIN = ":again"


async def post(
    session: AsyncSession,
    effects: Effects,
    *,
    workspace_id: int,
    conversation_id: int,
    content: MessageContent,
    key: str,
    purpose: str,
) -> bool:
    """False when nothing was posted: the key was used already, or no such conversation
    in this workspace."""
    if await outbox.key_taken(session, key):
        return False
    conversation = await repository.lock_by_id(session, conversation_id)
    if conversation is None or conversation.workspace_id != workspace_id:
        return False
    workspace = await workspaces.get(session, workspace_id)
    where = flow_turn.Where(workspace, "", conversation)
    await flow_turn._send(session, effects, where, content, key, purpose)
    return True


async def resend_held(session: AsyncSession, effects: Effects, conversation: Conversation) -> int:
    """Held messages go again (once each: the new key is the old one + ':again'); policy
    judges them again when they are dispatched. Returns how many were queued."""
    queued = 0
    workspace = None
    for purpose in RESENT_PURPOSES:
        for row in await outbox.held(session, conversation.id, purpose):
            key = row.idempotency_key + _AGAIN
            if row.idempotency_key.endswith(_AGAIN) or await outbox.key_taken(session, key):
                continue
            workspace = workspace or await workspaces.get(session, conversation.workspace_id)
            where = flow_turn.Where(workspace, "", conversation)
            content = MessageContent.model_validate(row.content)
            await flow_turn._send(session, effects, where, content, key, purpose)
            queued += 1
    return queued
