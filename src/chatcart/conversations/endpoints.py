"""/api/v1/conversations: thin router over conversations.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chatcart.conversations import service
from chatcart.conversations.schemas import ConversationOut, MessageOut
from chatcart.http_deps import ApiPrincipal, DbSession

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.get("", response_model=list[ConversationOut])
async def list_conversations(
    principal: ApiPrincipal,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ConversationOut]:
    return await service.list_conversations(
        session, principal.workspace_id, limit=limit, offset=offset
    )


@router.get("/{conversation_id}", response_model=ConversationOut)
async def get_conversation(
    conversation_id: int, principal: ApiPrincipal, session: DbSession
) -> ConversationOut:
    return await service.get(session, principal.workspace_id, conversation_id)


@router.get("/{conversation_id}/messages", response_model=list[MessageOut])
async def list_messages(
    conversation_id: int,
    principal: ApiPrincipal,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[MessageOut]:
    return await service.messages(session, principal.workspace_id, conversation_id, limit=limit)
