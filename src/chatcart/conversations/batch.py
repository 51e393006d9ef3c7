"""What a claimed inbound batch reads up front, so each event runs from memory: the
senders (contacts room), their conversations locked with one query, which message ids
are already stored (redeliveries) and the conversations' flow runs. The published flows
are read once per batch, and the senders' fields and tags once, when a flow is there to
read them. New rows get their keys from kit/ids and are written at the end of the batch
(engine.apply_many): the batch's hot rows with Core executemany statements (its messages;
the last message of each conversation it read; the senders' window clocks, in contacts),
everything else by one flush."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from chatcart.contacts import service as contacts
from chatcart.conversations import repository
from chatcart.conversations.schemas import RESENT_PURPOSES, Prepared
from chatcart.flows import service as flows
from chatcart.kit.ids import IdBlocks
from chatcart.models import Conversation, Message
from chatcart.outbox import service as outbox
from chatcart.shop import service as shop

# Events whose sender the engine resolves to a contact.
PEOPLE_EVENTS = frozenset({"message", "postback", "story_mention", "referral", "echo", "optin"})


@dataclass
class Batch:
    blocks: IdBlocks
    people: contacts.KnownPeople
    conversations: dict[int, Conversation]  # by identity id, locked
    runs: flows.BatchRuns
    stored: set[tuple[int, str]] = field(default_factory=set)  # (conversation, external id)
    # Fields and tags by contact: read for the whole batch on a flow's first turn; a
    # contact a flow changed is read again (`changed`).
    facts: dict[int, tuple[dict[str, Any], list[str]]] | None = None
    changed: set[int] = field(default_factory=set)
    # Conversations with order news that policy held back (sent again when the person writes).
    holding: set[int] = field(default_factory=set)
    # The conversations read from the database (their last message is written with Core).
    read: set[int] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)  # to insert, keys taken
    touched: dict[int, tuple[datetime, str]] = field(default_factory=dict)

    async def facts_of(
        self, session: AsyncSession, contact_id: int
    ) -> tuple[dict[str, Any], list[str]]:
        if self.facts is None:
            ids = sorted(contact.id for _, contact in self.people.found.values())
            self.facts = await contacts.facts_of_many(session, ids)
        if contact_id in self.changed:
            self.changed.discard(contact_id)
            fields = await contacts.fields_of(session, contact_id)
            self.facts[contact_id] = (fields, await contacts.tags_of(session, contact_id))
        return self.facts.get(contact_id, ({}, []))

    async def conversation(
        self,
        session: AsyncSession,
        *,
        workspace_id: int,
        contact_id: int,
        channel_account_id: int,
        identity_id: int,
    ) -> tuple[Conversation, bool]:
        found = self.conversations.get(identity_id)
        if found is not None:
            return found, False
        # Not among the locked ones: the identity has none yet (or is new in this batch).
        conversation = Conversation(
            id=await self.blocks.take(Conversation),
            workspace_id=workspace_id,
            contact_id=contact_id,
            channel_account_id=channel_account_id,
            identity_id=identity_id,
            status="open",
            bot_paused=False,
            last_message_preview="",
        )
        session.add(conversation)
        self.conversations[identity_id] = conversation
        return conversation, True

    def new_rows(self) -> tuple[Any, ...]:
        """The tables new senders add to (their contact, identity and conversation)."""
        if len(self.people.found) < len(self.people.asked):
            return (*contacts.NEW_PERSON_ROWS, Conversation)
        return ()

    async def add_message(self, values: dict[str, Any]) -> int | None:
        """Keep a message for the batch's insert, with its key taken ahead; None if it is
        already stored (the same platform id in the same conversation)."""
        external_id = values.get("external_id")
        if external_id:
            key = (values["conversation_id"], external_id)
            if key in self.stored:
                return None
            self.stored.add(key)
        values["id"] = id_ = await self.blocks.take(Message)
        self.messages.append(values)
        return id_

    def touch(self, conversation: Conversation, at: datetime, preview: str) -> None:
        """The conversation's last message. One read from the database is written with
        the others at the end, and its object is set without being marked changed (no
        flush of it for this); a new one is an INSERT of the flush anyway."""
        if conversation.id in self.read:
            set_committed_value(conversation, "last_message_at", at)
            set_committed_value(conversation, "last_message_preview", preview)
            self.touched[conversation.id] = (at, preview)
        else:
            conversation.last_message_at = at
            conversation.last_message_preview = preview

    async def write_messages(self, session: AsyncSession) -> None:
        """Flush (the new conversations the messages point at), then insert the messages
        kept so far: before anything that points at them (a phone number's source)."""
        await session.flush()
        rows, self.messages = self.messages, []
        await repository.insert_messages(session, rows)

    async def write(self, session: AsyncSession) -> None:
        """The end of the batch: the flush, the messages, each conversation's last message
        and the senders' window clocks."""
        await self.write_messages(session)
        await repository.touch_many(session, self.touched)
        await contacts.write_clocks(session, self.people)


async def load(
    session: AsyncSession,
    blocks: IdBlocks,
    batch: list[Prepared],
    people: contacts.KnownPeople | None = None,
) -> Batch:
    """`people`: the senders as read earlier in this transaction (read again when the
    events name someone they do not hold)."""
    senders = {
        (p.account.id, event.sender_id)
        for p in batch
        for event in p.events
        if event.kind in PEOPLE_EVENTS and event.sender_id
    }
    if people is None or not senders <= people.asked:
        people = await contacts.load_known(session, senders)
    identity_ids = {identity.id for identity, _ in people.found.values()}
    conversations = await repository.lock_many(session, identity_ids)
    # A redelivered event's message is in its sender's conversation: only those pairs.
    pairs = set()
    for p in batch:
        for event in p.events:
            if event.external_id and event.kind in PEOPLE_EVENTS and event.sender_id:
                found = people.found.get((p.account.id, event.sender_id))
                conversation = conversations.get(found[0].id) if found else None
                if conversation is not None:
                    pairs.add((conversation.id, event.external_id))
    stored = await repository.stored_pairs(session, pairs)
    ids = {c.id for c in conversations.values()}
    runs = await flows.load_runs(session, ids)
    await shop.load_chats(session, ids)
    holding = await outbox.conversations_holding(session, ids, RESENT_PURPOSES)
    return Batch(blocks, people, conversations, runs, stored, holding=holding, read=ids)
