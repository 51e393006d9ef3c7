"""The conversation engine: recorded inbound events, end to end, inside the caller's
transaction (DESIGN.md §5): contact -> locked conversation -> message -> bot -> outbox.

Parsing and profile look-ups (network) happen before, in the worker, outside any
transaction; everything here is database work only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.appointments import service as appointments
from chatcart.appointments.schemas import BookingPlace
from chatcart.channels import service as channels
from chatcart.channels.base import InboundEvent, MessageContent
from chatcart.contacts import service as contacts
from chatcart.contacts.schemas import ResolvedContact
from chatcart.conversations import batch as batching
from chatcart.conversations import flow_turn, posting, repository
from chatcart.conversations.schemas import Prepared
from chatcart.flows import service as flows
from chatcart.flows.schemas import BotInput
from chatcart.growth import service as growth
from chatcart.kit import config_cache
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import find_points
from chatcart.kit.crypto import SecretBox
from chatcart.kit.effects import Effects
from chatcart.kit.ids import close_blocks, open_blocks
from chatcart.kit.textnorm import nfc
from chatcart.models import Conversation, Message, OutboundMessage
from chatcart.outbox import service as outbox
from chatcart.outbox.schemas import Handoff
from chatcart.shop import service as shop
from chatcart.shop.schemas import ChatPlace
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceOut

log = logging.getLogger(__name__)


@dataclass
class _Step:
    session: AsyncSession
    effects: Effects
    secrets: SecretBox
    prepared: Prepared
    index: int
    event: InboundEvent
    workspaces: dict[int, WorkspaceOut]
    batch: batching.Batch | None = None  # set when a claimed batch runs set-based

    @property
    def workspace_id(self) -> int:
        return self.prepared.workspace_id

    @property
    def account_id(self) -> int:
        return self.prepared.account.id

    def announce(self, data: dict[str, Any]) -> None:
        self.effects.publish(f"workspace:{self.workspace_id}", data)


async def apply(
    session: AsyncSession,
    effects: Effects,
    secrets: SecretBox,
    prepared: Prepared,
    worker_id: str,
    cache: dict[int, WorkspaceOut] | None = None,
) -> bool:
    """Returns False when the event was not ours to process (claim lost or already done)."""
    if not await channels.take_inbound(session, prepared.event_id, worker_id):
        return False
    await _run(session, effects, secrets, prepared, {} if cache is None else cache)
    await channels.finish_inbound(session, prepared.event_id)
    return True


async def apply_many(
    session: AsyncSession,
    effects: Effects,
    secrets: SecretBox,
    batch: list[Prepared],
    worker_id: str,
    cache: dict[int, WorkspaceOut] | None = None,
    *,
    claimed: bool = False,
    handoff: Handoff | None = None,
    people: contacts.KnownPeople | None = None,
) -> list[int]:
    """`apply` for a claimed batch in the caller's one transaction, set-based: the events
    still ours are locked with one query (none when the same transaction `claimed` them);
    senders, their conversations and the message ids already stored are read with one
    query each (conversations/batch.py); each event then
    runs from memory in claim order (so one person's messages keep theirs); new contacts,
    conversations, messages and outbound rows get their keys ahead (kit/ids) and are
    written by one flush and one outbox insert; the events are marked done with one
    statement. `people`: the senders read already in this transaction. With a `handoff`,
    the replies to people are claimed for its worker and
    added to it, to be sent right after the commit. Returns the ids of the events
    applied."""
    cache = {} if cache is None else cache
    if claimed:
        applied = batch
    else:
        ours = await channels.take_inbound_many(session, [p.event_id for p in batch], worker_id)
        applied = [p for p in batch if p.event_id in ours]
    # About two messages per event (what the person wrote, the bot's answer).
    blocks = open_blocks(session, expected=2 * sum(len(p.events) for p in applied))
    outbox.hold_enqueues(session)
    try:
        loaded = await batching.load(session, blocks, applied, people)
        await blocks.prefetch(Message, OutboundMessage, *loaded.new_rows())
        for prepared in applied:
            await _run(session, effects, secrets, prepared, cache, loaded)
        await loaded.write(session)
        await outbox.write_held(session, effects, handoff)
        if handoff is not None and handoff.rows:
            wanted = {row["identity_id"] for row in handoff.rows}
            handoff.identities.update(contacts.identities_in(loaded.people, wanted))
    finally:
        outbox.release_held(session)
        close_blocks(session)
    done = [p.event_id for p in applied]
    await channels.finish_inbound_many(session, done)
    return done


async def _run(
    session: AsyncSession,
    effects: Effects,
    secrets: SecretBox,
    prepared: Prepared,
    cache: dict[int, WorkspaceOut],
    batch: batching.Batch | None = None,
) -> None:
    for index, event in enumerate(prepared.events):
        step = _Step(session, effects, secrets, prepared, index, event, cache, batch)
        await _HANDLERS[event.kind](step)


async def _resolve(step: _Step, *, opens_window: bool) -> ResolvedContact:
    event = step.event
    profile = {**step.prepared.profiles.get(event.sender_id, {}), **event.profile}
    source = None
    if event.referral:
        source = {"channel": step.prepared.account.kind, **event.referral}
    return await contacts.resolve(
        step.session,
        workspace_id=step.workspace_id,
        channel_account_id=step.account_id,
        external_id=event.sender_id,
        profile=profile,
        source=source,
        seen_at=event.timestamp,
        opens_window=opens_window,
        known=step.batch.people if step.batch else None,
    )


async def _conversation(step: _Step, contact: ResolvedContact) -> tuple[Conversation, bool]:
    find = step.batch.conversation if step.batch else repository.lock_or_create
    conversation, created = await find(
        step.session,
        workspace_id=step.workspace_id,
        contact_id=contact.contact_id,
        channel_account_id=step.account_id,
        identity_id=contact.identity_id,
    )
    if created and step.batch is not None:
        shop.note_new_conversation(step.session, conversation.id)
    return conversation, created


@dataclass(frozen=True, slots=True)
class _Said:
    """A message appended in this run: what the engine reads back of it."""

    id: int
    text: str


def _preview(content: dict[str, Any]) -> str:
    attachments = content.get("attachments") or []
    return f"[{attachments[0].get('kind', 'file')}]" if attachments else ""


async def _append(
    step: _Step, conversation: Conversation, *, direction: str, sender: str, content: MessageContent
) -> _Said | None:
    """Append a message once: a redelivered event finds its message already there."""
    event = step.event
    external_id = event.external_id if direction == "in" or sender == "agent" else None
    stored = content.model_dump(exclude_defaults=True)
    if event.payload and direction == "in":
        stored["payload"] = event.payload
    created_at = event.timestamp if direction == "in" else utcnow()
    preview = (content.text or _preview(stored))[:200]
    if step.batch is not None:
        message_id = await step.batch.add_message(
            {
                "workspace_id": step.workspace_id,
                "conversation_id": conversation.id,
                "direction": direction,
                "sender": sender,
                "external_id": external_id,
                "text": content.text,
                "content": stored,
                "created_at": created_at,
            }
        )
        if message_id is None:
            return None
        step.batch.touch(conversation, created_at, preview)
    else:
        if external_id and await repository.message_by_external(
            step.session, conversation.id, external_id
        ):
            return None
        message = Message(
            workspace_id=step.workspace_id,
            conversation_id=conversation.id,
            direction=direction,
            sender=sender,
            external_id=external_id,
            text=content.text,
            content=stored,
            created_at=created_at,
        )
        step.session.add(message)
        await step.session.flush()
        message_id = message.id
        conversation.last_message_at = created_at
        conversation.last_message_preview = preview
    step.announce({"type": "message", "conversation_id": conversation.id, "message_id": message_id})
    return _Said(message_id, content.text)


async def _person_writes(step: _Step) -> None:
    """message, postback, story mention: the person wrote; the bot may answer."""
    contact = await _resolve(step, opens_window=True)
    conversation, created = await _conversation(step, contact)
    content = step.event.content.model_copy(update={"text": nfc(step.event.content.text)})
    message = await _append(step, conversation, direction="in", sender="contact", content=content)
    if message is None:
        return  # already handled by an earlier run of this event
    # The person wrote: order news policy held back may go now (the window is open).
    if step.batch is None or conversation.id in step.batch.holding:
        await posting.resend_held(step.session, step.effects, conversation)
    if content.text and any(ch.isdigit() or ch == "@" for ch in content.text):
        await _pick_points(step, contact, message)
    if step.event.standby:
        return  # another app owns the thread: it answers, not us
    await _bot_answers(step, contact, conversation, text=content.text, first=created)


async def _pick_points(step: _Step, contact: ResolvedContact, message: _Said) -> None:
    """Phone numbers and emails the person wrote ("sdt em 0912.345.678") join the contact,
    with where and when they were seen."""
    workspace = await _workspace(step)
    points = find_points(message.text, workspace.default_region)
    if points:
        if step.batch is not None:
            # The point names the message, which a batch writes only at its end: write
            # the messages so far first.
            await step.batch.write_messages(step.session)
        await contacts.add_points(
            step.session,
            step.workspace_id,
            contact.contact_id,
            points,
            source="message",
            at=step.event.timestamp,
            channel_account_id=step.account_id,
            message_id=message.id,
        )


async def _person_arrives(step: _Step) -> None:
    """m.me ref link or ad into an existing thread: opens the window, greets, no text."""
    contact = await _resolve(step, opens_window=True)
    conversation, _ = await _conversation(step, contact)
    if step.event.standby:
        return
    await _bot_answers(step, contact, conversation, text="", first=True)


async def _bot_answers(
    step: _Step,
    contact: ResolvedContact,
    conversation: Conversation,
    *,
    text: str,
    first: bool,
) -> None:
    if conversation.bot_paused:
        return
    workspace = await _workspace(step)
    guessed = flows.guess_language(text, "")  # "" when the text does not tell
    place = _place(step, contact, conversation, workspace, guessed)
    payload = step.event.payload
    booking = _booking_place(step, contact, conversation, workspace, guessed)
    # A checkout question waiting for its answer and the shop's and the booking's own
    # buttons come first; then the seller's flows; then the built-in intents ("lịch hẹn
    # của tôi", "my order"...).
    replies = await shop.answer(step.session, place, text, payload, intents=False)
    if replies is None:
        replies = await appointments.answer(step.session, booking, text, payload, intents=False)
    if replies is None:
        if await _flows_answer(step, contact, conversation, workspace, text=text, first=first):
            return
        replies = await appointments.answer(step.session, booking, text, payload, intents=True)
    if replies is None:
        replies = await shop.answer(step.session, place, text, payload, intents=True)
    if replies is None:
        replies = _greeting(step, contact, workspace, text=text, first=first)
    for number, reply in enumerate(replies):
        out = await _append(step, conversation, direction="out", sender="bot", content=reply)
        assert out is not None
        await outbox.enqueue(
            step.session,
            step.effects,
            workspace_id=step.workspace_id,
            channel_account_id=step.account_id,
            identity_id=contact.identity_id,
            contact_id=contact.contact_id,
            conversation_id=conversation.id,
            message_id=out.id,
            idempotency_key=f"reply:{step.prepared.event_id}:{step.index}:{number}",
            content=reply,
        )


def _place(
    step: _Step,
    contact: ResolvedContact,
    conversation: Conversation,
    workspace: WorkspaceOut,
    guessed: str,
) -> ChatPlace:
    locale = (contact.locale or "")[:2].lower()
    language = locale or guessed or workspace.locale
    return ChatPlace(
        workspace_id=step.workspace_id,
        conversation_id=conversation.id,
        contact_id=contact.contact_id,
        channel=step.prepared.account.kind,
        region=workspace.default_region,
        language="vi" if language == "vi" else "en",
        language_sure=bool(locale or guessed),
        contact_name=contact.name,
    )


def _booking_place(
    step: _Step,
    contact: ResolvedContact,
    conversation: Conversation,
    workspace: WorkspaceOut,
    guessed: str,
) -> BookingPlace:
    known = contact.locale or guessed
    return BookingPlace(
        workspace_id=step.workspace_id,
        conversation_id=conversation.id,
        contact_id=contact.contact_id,
        timezone=workspace.timezone,
        language=appointments.language_of(known or workspace.locale),
        language_sure=bool(known),
        contact_name=contact.name,
    )


def _greeting(
    step: _Step, contact: ResolvedContact, workspace: WorkspaceOut, *, text: str, first: bool
) -> list[MessageContent]:
    return flows.respond(
        BotInput(
            text=text,
            payload=step.event.payload,
            first_message=first,
            contact_name=contact.name,
            contact_first_name=contact.first_name,
            contact_locale=contact.locale,
            workspace_name=workspace.name,
            workspace_locale=workspace.locale,
        )
    )


async def _flows_answer(
    step: _Step,
    contact: ResolvedContact,
    conversation: Conversation,
    workspace: WorkspaceOut,
    *,
    text: str,
    first: bool,
) -> bool:
    """The workspace's published flows take the input, if one matches or a run is on."""
    view = flow_turn.contact_view(
        step.session,
        contact.contact_id,
        name=contact.name,
        first_name=contact.first_name,
        last_name=None,
        locale=contact.locale,
        batch=step.batch,
    )
    where = flow_turn.Where(workspace, step.prepared.account.kind, conversation, step.batch)
    data = flow_turn.input_of(step.event, text=text, first=first, channel=where.channel)
    key = f"reply:{step.prepared.event_id}:{step.index}"
    return await flow_turn.take_turn(step.session, step.effects, where, view, data, key)


async def _workspace(step: _Step) -> WorkspaceOut:
    workspace = step.workspaces.get(step.workspace_id)
    if workspace is None:
        workspace = await workspaces.get(step.session, step.workspace_id)
        step.workspaces[step.workspace_id] = workspace
        # The engine never changes flows, shop settings or products: what it reads of them
        # in this transaction may come from the cache at the revision just read.
        config_cache.note(step.session, workspace.id, (workspace.created_at, workspace.config_rev))
    return workspace


async def _receipt(step: _Step) -> None:
    identity = await contacts.find_identity(step.session, step.account_id, step.event.sender_id)
    if identity is None:
        return
    await outbox.apply_receipt(
        step.session,
        step.effects,
        channel_account_id=step.account_id,
        identity_id=identity.id,
        kind=step.event.kind,
        watermark=step.event.watermark,
        mids=step.event.mids,
    )


async def _echo(step: _Step) -> None:
    """A message the Page sent. Ours: nothing to do (never answered: no echo loops).
    Someone else's (a person in the Page inbox): shown in the conversation as an agent's."""
    event = step.event
    for key in (event.metadata, event.external_id):
        if key and await outbox.is_ours(step.session, step.account_id, key):
            return
    contact = await _resolve(step, opens_window=False)
    conversation, _ = await _conversation(step, contact)
    content = event.content.model_copy(update={"text": nfc(event.content.text)})
    await _append(step, conversation, direction="out", sender="agent", content=content)


async def _optin(step: _Step) -> None:
    optin = step.event.optin
    if optin is None:
        return
    contact = await _resolve(step, opens_window=False)  # an opt-in opens no window
    await contacts.record_optin(
        step.session,
        step.secrets,
        workspace_id=step.workspace_id,
        channel_account_id=step.account_id,
        identity_id=contact.identity_id,
        optin=optin,
        at=step.event.timestamp,
    )


async def _comment(step: _Step) -> None:
    comment = step.event.comment
    if comment is None:
        return
    comment_row = await growth.record_comment(
        step.session,
        workspace_id=step.workspace_id,
        account_id=step.account_id,
        comment=comment,
        at=step.event.timestamp,
    )
    step.announce({"type": "comment", "comment_id": comment_row})
    if comment.verb != "add":
        return
    workspace = await _workspace(step)
    # A comment trigger of a published flow answers; else the greeter, when the account
    # has automatic private replies on.
    reply = await flow_turn.comment_reply(
        step.session, workspace, step.prepared.account.kind, comment, step.batch
    )
    if reply is None and step.prepared.account.settings.get("auto_private_reply"):
        reply = flows.respond_to_comment(
            BotInput(
                text=comment.text,
                first_message=True,
                contact_name=comment.from_name or "",
                workspace_name=workspace.name,
                workspace_locale=workspace.locale,
            )
        )
    if reply is not None:
        await outbox.enqueue(
            step.session,
            step.effects,
            workspace_id=step.workspace_id,
            channel_account_id=step.account_id,
            identity_id=None,  # commenters on a Page feed are not Messenger identities yet
            contact_id=None,
            conversation_id=None,
            message_id=None,
            idempotency_key=f"comment-reply:{step.account_id}:{comment.comment_id}",
            content=reply,
            purpose="private_reply",
            recipient_kind="comment_id",
            recipient_external_id=comment.comment_id,
        )


_HANDLERS: dict[str, Callable[[_Step], Awaitable[None]]] = {
    "message": _person_writes,
    "postback": _person_writes,
    "story_mention": _person_writes,
    "referral": _person_arrives,
    "delivery": _receipt,
    "read": _receipt,
    "echo": _echo,
    "optin": _optin,
    "comment": _comment,
}
