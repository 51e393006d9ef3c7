"""The conversation engine: one recorded inbound event, end to end, in one transaction
(DESIGN.md §5): parse -> contact -> locked conversation -> message -> bot -> outbox."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.channels import service as channels
from chatcart.channels.base import ChannelAdapter, InboundEvent, ParseError
from chatcart.contacts import service as contacts
from chatcart.conversations import repository
from chatcart.flows import service as flows
from chatcart.flows.schemas import BotInput
from chatcart.kit.crypto import SecretBox
from chatcart.kit.effects import Effects
from chatcart.kit.textnorm import nfc
from chatcart.models import Conversation, Message
from chatcart.outbox import service as outbox
from chatcart.workspaces import service as workspaces

log = logging.getLogger(__name__)

# Kinds that are a person writing (and so get an answer); the rest update state only.
_CONVERSATIONAL = {"message", "postback"}


async def process_inbound(
    session: AsyncSession,
    effects: Effects,
    adapters: dict[str, ChannelAdapter],
    secrets: SecretBox,
    event_id: int,
    worker_id: str,
) -> bool:
    """Returns False when the event was not ours to process (claim lost or already done)."""
    claimed = await channels.take_inbound(session, event_id, worker_id)
    if claimed is None:
        return False
    account = await channels.account_ref(session, secrets, claimed.channel_account_id)
    try:
        events = channels.parse_inbound(adapters, account, claimed.body)
    except ParseError as exc:
        log.warning("inbound event %s cannot be parsed: %s", event_id, exc)
        await channels.finish_inbound(session, event_id, error=f"parse: {exc}")
        return True
    for index, event in enumerate(events):
        if event.kind in _CONVERSATIONAL:
            await _conversational(
                session, effects, claimed.workspace_id, account.id, event_id, index, event
            )
    await channels.finish_inbound(session, event_id)
    return True


async def _conversational(
    session: AsyncSession,
    effects: Effects,
    workspace_id: int,
    account_id: int,
    event_id: int,
    index: int,
    event: InboundEvent,
) -> None:
    contact = await contacts.resolve(
        session,
        workspace_id=workspace_id,
        channel_account_id=account_id,
        external_id=event.sender_id,
        profile=event.profile,
        source=event.referral,
        seen_at=event.timestamp,
    )
    conversation, _ = await repository.lock_or_create(
        session,
        workspace_id=workspace_id,
        contact_id=contact.contact_id,
        channel_account_id=account_id,
        identity_id=contact.identity_id,
    )
    if await repository.message_by_external(session, conversation.id, event.external_id):
        return  # already appended by an earlier run of this event
    text = nfc(event.content.text)
    content = event.content.model_copy(update={"text": text})
    message = Message(
        workspace_id=workspace_id,
        conversation_id=conversation.id,
        direction="in",
        sender="contact",
        external_id=event.external_id,
        text=text,
        content=content.model_dump(exclude_defaults=True),
        created_at=event.timestamp,
    )
    session.add(message)
    await session.flush()
    _touch(conversation, message)
    effects.publish(
        f"workspace:{workspace_id}",
        {"type": "message", "conversation_id": conversation.id, "message_id": message.id},
    )
    if conversation.bot_paused:
        return
    workspace = await workspaces.get(session, workspace_id)
    replies = flows.respond(
        BotInput(
            text=text,
            payload=event.payload,
            first_message=not await repository.has_inbound_before(
                session, conversation.id, message.id
            ),
            contact_name=contact.name,
            contact_locale=contact.locale,
            workspace_name=workspace.name,
            workspace_locale=workspace.locale,
        )
    )
    for number, reply in enumerate(replies):
        out = Message(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            direction="out",
            sender="bot",
            text=reply.text,
            content=reply.model_dump(exclude_defaults=True),
        )
        session.add(out)
        await session.flush()
        _touch(conversation, out)
        await outbox.enqueue(
            session,
            effects,
            workspace_id=workspace_id,
            channel_account_id=account_id,
            identity_id=contact.identity_id,
            contact_id=contact.contact_id,
            conversation_id=conversation.id,
            message_id=out.id,
            idempotency_key=f"reply:{event_id}:{index}:{number}",
            content=reply,
        )
        effects.publish(
            f"workspace:{workspace_id}",
            {"type": "message", "conversation_id": conversation.id, "message_id": out.id},
        )


def _touch(conversation: Conversation, message: Message) -> None:
    conversation.last_message_at = message.created_at
    conversation.last_message_preview = message.text[:200]
