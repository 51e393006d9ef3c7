"""Bot flows inside a conversation. The flows room decides (its runtime is pure); this
module executes what it decided through the owning rooms' services — messages here and in
the outbox, fields and tags in contacts, the handover on the conversation — and stores the
run. The engine calls `take_turn` for a person's message; the flows loop calls `resume` when
a run's wait is over or its HTTP call has answered."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.appointments import service as appointments
from chatcart.appointments.schemas import BookingPlace
from chatcart.channels import service as channels
from chatcart.channels.base import CommentRef, InboundEvent, MessageContent
from chatcart.contacts import service as contacts
from chatcart.contacts.schemas import FieldDefinitionIn, FieldType
from chatcart.conversations import repository
from chatcart.conversations.batch import Batch
from chatcart.flows import service as flows
from chatcart.flows.schemas import (
    AppointmentAction,
    ClearFieldAction,
    ContactView,
    FlowInput,
    HandoverAction,
    Outcome,
    SendAction,
    SetFieldAction,
    ShopAction,
    TagAction,
    TraceAction,
    WorkspaceView,
)
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import FoundPoint
from chatcart.kit.effects import Effects
from chatcart.kit.errors import AppError
from chatcart.models import Conversation, Message
from chatcart.outbox import service as outbox
from chatcart.shop import service as shop
from chatcart.shop.schemas import ChatPlace
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceOut

log = logging.getLogger(__name__)
_FIELD_TYPES = {"number": FieldType.number, "date": FieldType.date}


@dataclass
class Where:
    """The conversation a turn happens in."""

    workspace: WorkspaceOut
    channel: str
    conversation: Conversation
    batch: Batch | None = None  # a claimed inbound batch: reads and writes go through it

    @property
    def workspace_id(self) -> int:
        return self.workspace.id


def workspace_view(workspace: WorkspaceOut) -> WorkspaceView:
    return WorkspaceView(
        name=workspace.name,
        locale=workspace.locale,
        timezone=workspace.timezone,
        region=workspace.default_region,
    )


ViewOf = Callable[[], Awaitable[ContactView]]


def contact_view(
    session: AsyncSession,
    contact_id: int,
    *,
    name: str,
    first_name: str | None,
    last_name: str | None,
    locale: str | None,
    batch: Batch | None = None,
) -> ViewOf:
    """How to see the contact, read only once a published flow is there to look."""

    async def view() -> ContactView:
        if batch is not None:
            fields, tags = await batch.facts_of(session, contact_id)
        else:
            fields = await contacts.fields_of(session, contact_id)
            tags = await contacts.tags_of(session, contact_id)
        return ContactView(
            first_name=first_name,
            last_name=last_name,
            name=name,
            locale=locale,
            fields=dict(fields),
            tags=list(tags),
        )

    return view


def input_of(event: InboundEvent, *, text: str, first: bool, channel: str) -> FlowInput:
    kind = event.kind if event.kind in {"postback", "referral"} else "message"
    ref = (event.referral or {}).get("ref")
    return FlowInput(
        kind=kind,
        text=text,
        payload=event.payload,
        ref=str(ref) if ref else None,
        channel=channel,
        first=first,
    )


async def take_turn(
    session: AsyncSession,
    effects: Effects,
    where: Where,
    view_contact: ViewOf,
    data: FlowInput,
    key_prefix: str,
) -> bool:
    """The flows' answer to one input. False: no flow took it (the greeter answers).
    The contact's fields and tags are read (contact_of) only when a flow may run."""
    conversation = where.conversation
    runs = where.batch.runs if where.batch is not None else None
    state, turns = await flows.run_of(session, conversation.id, runs)
    book = await flows.book(
        session, where.workspace_id, pinned=state.version if state is not None else None, batch=runs
    )
    if book is None:
        if state is not None:
            await flows.save_run(
                session,
                workspace_id=where.workspace_id,
                conversation_id=conversation.id,
                state=None,
                batch=runs,
            )
        return False
    rng = random.Random(f"{conversation.id}:{turns}")  # noqa: S311  (replayable A/B splits)
    contact = await view_contact()
    outcome = flows.turn(book, state, data, utcnow(), rng, contact, workspace_view(where.workspace))
    if not outcome.matched and state is None:
        return False
    await flows.save_run(
        session,
        workspace_id=where.workspace_id,
        conversation_id=conversation.id,
        state=outcome.state,
        batch=runs,
    )
    await execute(session, effects, where, outcome, key_prefix)
    if outcome.state is not None and outcome.state.status in {"waiting", "http"}:
        effects.wake("flows")
    return outcome.matched


async def _drop_run(session: AsyncSession, workspace_id: int, conversation_id: int) -> None:
    await flows.save_run(
        session, workspace_id=workspace_id, conversation_id=conversation_id, state=None
    )


async def execute(
    session: AsyncSession, effects: Effects, where: Where, outcome: Outcome, key_prefix: str
) -> None:
    conversation = where.conversation
    sent = 0
    for action in outcome.actions:
        if where.batch is not None and isinstance(
            action, SetFieldAction | ClearFieldAction | TagAction
        ):
            where.batch.changed.add(conversation.contact_id)
        if isinstance(action, SendAction):
            await _send(session, effects, where, action.content, f"{key_prefix}:{sent}")
            sent += 1
        elif isinstance(action, SetFieldAction):
            await _set_field(session, where, action)
        elif isinstance(action, ClearFieldAction):
            await _set_fields(session, where, {action.field: None}, action.field)
        elif isinstance(action, TagAction):
            ids = [conversation.contact_id]
            if action.add:
                await contacts.tag(session, where.workspace_id, ids, action.add, actor="flow")
            if action.remove:
                await contacts.untag(session, where.workspace_id, ids, action.remove, actor="flow")
        elif isinstance(action, ShopAction):
            place = await chat_place(session, where, action.language)
            replies = await shop.act(session, place, action.op, action.query, action.args)
            for content in replies:
                await _send(session, effects, where, content, f"{key_prefix}:{sent}")
                sent += 1
        elif isinstance(action, AppointmentAction):
            booking = await booking_place(session, where, action.language)
            for content in await appointments.act(session, booking, action.op, action.service):
                await _send(session, effects, where, content, f"{key_prefix}:{sent}")
                sent += 1
        elif isinstance(action, HandoverAction):
            conversation.bot_paused = True
            _announce(effects, where, {"type": "handover", "conversation_id": conversation.id})
        elif isinstance(action, TraceAction) and action.note:
            log.info(
                "conversation %s flow %s step %s (%s): %s",
                conversation.id,
                action.flow,
                action.step,
                action.type,
                action.note,
            )


async def chat_place(session: AsyncSession, where: Where, language: str) -> ChatPlace:
    conversation = where.conversation
    person = await contacts.get(session, where.workspace_id, conversation.contact_id)
    return ChatPlace(
        workspace_id=where.workspace_id,
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        channel=where.channel,
        region=where.workspace.default_region,
        language="vi" if language == "vi" else "en",
        contact_name=person.name,
    )


async def booking_place(session: AsyncSession, where: Where, language: str) -> BookingPlace:
    conversation = where.conversation
    person = await contacts.get(session, where.workspace_id, conversation.contact_id)
    return BookingPlace(
        workspace_id=where.workspace_id,
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        timezone=where.workspace.timezone,
        language=appointments.language_of(language),
        contact_name=person.name,
    )


def _announce(effects: Effects, where: Where, data: dict[str, Any]) -> None:
    effects.publish(f"workspace:{where.workspace_id}", data)


async def _send(
    session: AsyncSession,
    effects: Effects,
    where: Where,
    content: MessageContent,
    key: str,
    purpose: str = "reply",
) -> None:
    conversation = where.conversation
    message = Message(
        workspace_id=where.workspace_id,
        conversation_id=conversation.id,
        direction="out",
        sender="bot",
        text=content.text,
        content=content.model_dump(exclude_defaults=True),
        created_at=utcnow(),
    )
    if where.batch is not None:
        await where.batch.new_message(session, message)  # written by the batch's flush
    else:
        session.add(message)
        await session.flush()
    conversation.last_message_at = message.created_at
    conversation.last_message_preview = (content.text or "[card]")[:200]
    _announce(
        effects,
        where,
        {"type": "message", "conversation_id": conversation.id, "message_id": message.id},
    )
    await outbox.enqueue(
        session,
        effects,
        workspace_id=where.workspace_id,
        channel_account_id=conversation.channel_account_id,
        identity_id=conversation.identity_id,
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
        message_id=message.id,
        idempotency_key=key,
        content=content,
        purpose=purpose,
    )


async def _set_field(session: AsyncSession, where: Where, action: SetFieldAction) -> None:
    """A field a flow writes is defined on first use (typed after the question asked)."""
    known = {d.key for d in await contacts.field_definitions(session, where.workspace_id)}
    if action.field not in known:
        kind = _FIELD_TYPES.get(action.answer, FieldType.text)
        await contacts.define_field(
            session, where.workspace_id, FieldDefinitionIn(key=action.field, type=kind)
        )
    await _set_fields(session, where, {action.field: action.value}, action.field)
    if action.answer in {"phone", "email"}:
        point = FoundPoint(action.answer, str(action.value), str(action.value), True)
        await contacts.add_points(
            session,
            where.workspace_id,
            where.conversation.contact_id,
            [point],
            source="message",
            at=utcnow(),
            channel_account_id=where.conversation.channel_account_id,
        )


async def _set_fields(
    session: AsyncSession, where: Where, values: dict[str, object], key: str
) -> None:
    try:
        async with session.begin_nested():
            await contacts.set_fields(
                session, where.workspace_id, where.conversation.contact_id, values, actor="flow"
            )
    except AppError as exc:  # a value that does not fit the seller's field: logged, skipped
        log.warning(
            "flow could not set field %s of conversation %s: %s", key, where.conversation.id, exc
        )


async def resume(
    session: AsyncSession, effects: Effects, run_id: int, worker_id: str, data: FlowInput
) -> bool:
    """Go on with a claimed run (its wait is over, or its HTTP call answered). False when
    it was no longer ours: answered, restarted or removed since it was claimed."""
    run = await flows.claimed_run(session, run_id, worker_id)
    if run is None:
        return False
    conversation = await repository.lock_by_id(session, run.conversation_id)
    run = await flows.claimed_run(session, run_id, worker_id)  # again, under the lock
    if conversation is None or run is None:
        return False
    if conversation.bot_paused:  # a person holds the conversation: the flow stops here
        await _drop_run(session, run.workspace_id, conversation.id)
        return True
    workspace = await workspaces.get(session, run.workspace_id)
    account = await channels.get_account(session, conversation.channel_account_id)
    person = await contacts.get(session, run.workspace_id, conversation.contact_id)
    view = contact_view(
        session,
        conversation.contact_id,
        name=person.name,
        first_name=person.first_name,
        last_name=person.last_name,
        locale=person.locale,
    )
    where = Where(workspace, account.kind, conversation)
    data = data.model_copy(update={"channel": account.kind})
    await take_turn(session, effects, where, view, data, f"flow:{run.id}:{run.turns}")
    return True


async def comment_reply(
    session: AsyncSession,
    workspace: WorkspaceOut,
    channel: str,
    comment: CommentRef,
    batch: Batch | None = None,
) -> MessageContent | None:
    """The private reply a comment trigger sends (Meta allows one message: the first the
    flow sends). The commenter is no contact yet, so the flow's other actions wait for the
    conversation the reply opens."""
    book = await flows.book(session, workspace.id, batch=batch.runs if batch else None)
    if book is None:
        return None
    data = FlowInput(kind="comment", text=comment.text, post_id=comment.post_id, channel=channel)
    rng = random.Random(comment.comment_id)  # noqa: S311  (replayable A/B splits)
    contact = ContactView(name=comment.from_name or "")
    outcome = flows.turn(book, None, data, utcnow(), rng, contact, workspace_view(workspace))
    sends = outcome.sends()
    return sends[0] if outcome.matched and sends else None
