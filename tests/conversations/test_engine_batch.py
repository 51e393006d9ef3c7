"""The conversation engine on a claimed batch, set-based: a fixed number of statements
however many events, and the same outcome as one event at a time (order per person,
first-contact greeting, redeliveries, standby threads left alone)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, func, select

from chatcart.channels import service as channels
from chatcart.channels.base import AccountRef, InboundEvent, MessageContent
from chatcart.channels.schemas import NewInbound
from chatcart.contacts import service as contacts
from chatcart.conversations import service as conversations
from chatcart.conversations.schemas import Prepared
from chatcart.flows import service as flows
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.models import (
    Contact,
    ContactIdentity,
    Conversation,
    FlowRun,
    Message,
    OutboundMessage,
)
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop

WORKER = "test-worker"


async def _account(runtime: Runtime, workspace_id: int) -> AccountRef:
    async with transaction(runtime.sessions) as session:
        account = await channels.connect_meta(
            session,
            runtime.secrets,
            workspace_id=workspace_id,
            kind="messenger",
            name="Page",
            external_id="111",
            page_token="token",
            app_secret="secret",
        )
        return await channels.account_ref(session, runtime.secrets, account.id)


async def _claimed(
    runtime: Runtime, workspace_id: int, account: AccountRef, events: list[InboundEvent]
) -> list[Prepared]:
    """Record one inbound row per event and claim them, as the ingress and worker do."""
    async with transaction(runtime.sessions) as session:
        await channels.record_inbound_many(
            session,
            [
                NewInbound(
                    workspace_id=workspace_id,
                    channel_account_id=account.id,
                    external_id=e.external_id,
                    sender_external_id=e.sender_id,
                    body="{}",
                )
                for e in events
            ],
        )
        ids = await channels.claim_inbound(session, WORKER, 1000, 60)
        claimed = await channels.load_claimed(session, ids)
    assert len(claimed) == len(events)
    return [
        Prepared(row.id, workspace_id, account, [e]) for row, e in zip(claimed, events, strict=True)
    ]


def _says(psid: str, mid: str, text: str, at: int, *, standby: bool = False) -> InboundEvent:
    return InboundEvent(
        kind="message",
        external_id=mid,
        sender_id=psid,
        timestamp=utcnow() - timedelta(seconds=100 - at),
        content=MessageContent(text=text),
        standby=standby,
    )


async def _apply(runtime: Runtime, batch: list[Prepared]) -> tuple[list[int], int]:
    """Apply a batch in one transaction; returns the ids done and the statements run."""
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with transaction(runtime.sessions) as session:
            done = await conversations.apply_inbound_many(
                session, Effects(), runtime.secrets, batch, WORKER
            )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return done, statements


async def test_a_batch_runs_in_a_fixed_number_of_statements(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    account = await _account(runtime, shop.workspace_id)
    # 40 people write twice each: first contacts, then people already known.
    first = [_says(f"p{n}", f"m{n}a", "xin chào", n) for n in range(40)]
    done, statements_new = await _apply(
        runtime, await _claimed(runtime, shop.workspace_id, account, first)
    )
    assert len(done) == 40
    again = [_says(f"p{n}", f"m{n}b", "còn hàng không?", 50 + n) for n in range(40)]
    done, statements_known = await _apply(
        runtime, await _claimed(runtime, shop.workspace_id, account, again)
    )
    assert len(done) == 40
    # Per batch, not per event: lock events, read people, conversations, stored ids, take
    # keys, one write per table, mark done (a handful either way, never 40 x anything).
    # SQLite 12 and 18, PostgreSQL 16 and 19 (its keys come from a query per table).
    assert statements_new <= 16, statements_new
    assert statements_known <= 19, statements_known
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 40
        assert await session.scalar(select(func.count()).select_from(ContactIdentity)) == 40
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 40
        inbound = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "in")
        )
        assert inbound == 80
        queued = await session.scalar(select(func.count()).select_from(OutboundMessage))
        replies = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "out")
        )
        assert queued == replies
        assert queued is not None and queued >= 80
        # Every outbound row points at its own bot message.
        rows = (await session.execute(select(OutboundMessage.message_id))).scalars().all()
        assert len(set(rows)) == len(rows)


async def test_one_persons_messages_keep_their_order_and_only_the_first_is_a_first_contact(
    runtime: Runtime,
) -> None:
    shop = await make_shop(runtime)
    account = await _account(runtime, shop.workspace_id)
    events = [_says("anh", f"m{n}", f"tin {n}", n) for n in range(5)]
    done, _ = await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, events))
    assert len(done) == 5
    async with runtime.sessions() as session:
        texts = (
            await session.scalars(
                select(Message.text).where(Message.direction == "in").order_by(Message.id)
            )
        ).all()
        assert list(texts) == [f"tin {n}" for n in range(5)]
        (conversation,) = (await session.scalars(select(Conversation))).all()
        assert conversation.last_message_at is not None
        # The greeting goes out once, on the first contact, not once per message.
        out = (
            await session.scalars(
                select(Message.text).where(Message.direction == "out").order_by(Message.id)
            )
        ).all()
    greetings = [t for t in out if t.startswith("Xin chào")]
    assert len(greetings) == 1, out


async def test_a_redelivered_message_is_stored_and_answered_once(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    account = await _account(runtime, shop.workspace_id)
    once = [_says("binh", "m-1", "giá bao nhiêu", 1)]
    await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, once))
    async with runtime.sessions() as session:
        before = await session.scalar(select(func.count()).select_from(OutboundMessage))
    # The same mid again, recorded under another inbound id (a platform retry that slipped
    # past the ingress), in a batch with a new message of the same person.
    again = [
        _says("binh", "m-1", "giá bao nhiêu", 1).model_copy(update={"external_id": "m-1"}),
        _says("binh", "m-2", "size M", 2),
    ]
    prepared = await _claimed(
        runtime,
        shop.workspace_id,
        account,
        [again[0].model_copy(update={"external_id": "retry-of-m-1"}), again[1]],
    )
    prepared[0].events = [again[0]]
    done, _ = await _apply(runtime, prepared)
    assert len(done) == 2
    async with runtime.sessions() as session:
        mids = (
            await session.scalars(select(Message.external_id).where(Message.direction == "in"))
        ).all()
        after = await session.scalar(select(func.count()).select_from(OutboundMessage))
    assert sorted(m for m in mids if m) == ["m-1", "m-2"]
    assert before is not None and after is not None and after > before


async def test_known_peoples_clocks_and_last_messages_move_forward_only(
    runtime: Runtime,
) -> None:
    """A batch writes the window clocks of the people it read (identity's last inbound,
    contact's last interaction) and each conversation's last message with one statement
    each; a clock the database already has further on stays."""
    shop = await make_shop(runtime)
    account = await _account(runtime, shop.workspace_id)
    first = [_says(p, f"{p}-1", "xin chào", 1) for p in ("an", "bao", "cuc")]
    await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, first))
    later = utcnow() + timedelta(hours=1)
    async with transaction(runtime.sessions) as session:
        an = await session.scalar(
            select(ContactIdentity).where(ContactIdentity.external_id == "an")
        )
        assert an is not None
        an.last_inbound_at = later  # another worker's newer event, say
        contact_of_an = await session.get(Contact, an.contact_id)
        assert contact_of_an is not None
        contact_of_an.last_interaction_at = later
    again = [_says(p, f"{p}-2", "còn hàng không?", 40) for p in ("an", "bao", "cuc")]
    done, _ = await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, again))
    assert len(done) == 3
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(ContactIdentity.external_id, ContactIdentity.last_inbound_at, Contact)
                .join(Contact, Contact.id == ContactIdentity.contact_id)
                .order_by(ContactIdentity.external_id)
            )
        ).all()
        conversations = (await session.scalars(select(Conversation))).all()
        last = {
            c.id: (
                await session.scalars(
                    select(Message)
                    .where(Message.conversation_id == c.id)
                    .order_by(Message.id.desc())
                    .limit(1)
                )
            ).one()
            for c in conversations
        }
    expected = [later, again[1].timestamp, again[2].timestamp]
    assert [(p, at) for p, at, _ in rows] == list(zip(["an", "bao", "cuc"], expected, strict=True))
    assert [c.last_interaction_at for _, _, c in rows] == expected
    for conversation in conversations:
        message = last[conversation.id]
        assert message.direction == "out"  # the bot's answer to "còn hàng không?"
        assert conversation.last_message_at == message.created_at
        assert conversation.last_message_preview == message.text[:200]


async def test_phone_numbers_in_a_batch_point_at_their_messages(runtime: Runtime) -> None:
    """A phone number written in a batch joins the contact naming its message, which the
    batch writes at its end: the messages so far go first (new people's, in new
    conversations, too)."""
    from chatcart.models import ContactPoint

    shop = await make_shop(runtime)
    account = await _account(runtime, shop.workspace_id)
    await _apply(
        runtime, await _claimed(runtime, shop.workspace_id, account, [_says("an", "a1", "hi", 1)])
    )
    events = [
        _says("an", "a2", "sdt em 0912.345.678", 10),  # known
        _says("dung", "d1", "chào shop", 11),  # new, then a number in the same batch
        _says("dung", "d2", "gọi em 0987 654 321 nha", 12),
        _says("em", "e1", "số em 0903123456", 13),  # new, the number at once
    ]
    done, _ = await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, events))
    assert len(done) == 4
    async with runtime.sessions() as session:
        points = (
            await session.execute(
                select(ContactPoint.value, Message.text, ContactIdentity.external_id)
                .join(Message, Message.id == ContactPoint.message_id)
                .join(ContactIdentity, ContactIdentity.contact_id == ContactPoint.contact_id)
                .order_by(ContactPoint.value)
            )
        ).all()
    assert [tuple(p) for p in points] == [
        ("+84903123456", "số em 0903123456", "em"),
        ("+84912345678", "sdt em 0912.345.678", "an"),
        ("+84987654321", "gọi em 0987 654 321 nha", "dung"),
    ]


async def test_standby_messages_are_recorded_but_never_answered(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    account = await _account(runtime, shop.workspace_id)
    events = [_says("chi", "m-s", "em muốn đặt hàng", 1, standby=True)]
    done, _ = await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, events))
    assert len(done) == 1
    async with runtime.sessions() as session:
        texts = (await session.scalars(select(Message.text))).all()
        queued = await session.scalar(select(func.count()).select_from(OutboundMessage))
        identity = await session.scalar(select(ContactIdentity))
    assert texts == ["em muốn đặt hàng"]
    assert queued == 0
    assert identity is not None and identity.last_inbound_at is not None


ORDER = """\
id: order
name: Order
triggers: [{type: keyword, any_of: [đặt hàng]}]
start: ask
steps:
  ask: {type: ask, kind: phone, question: "SĐT của bạn?", save_to: phone, next: tag}
  tag: {type: tag, add: [Khách đặt hàng], next: thanks}
  thanks: {type: send, text: "Cảm ơn! Shop gọi {{phone}} nhé"}
"""


async def test_bot_flows_run_per_batch_not_per_event(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    account = await _account(runtime, shop.workspace_id)
    async with transaction(runtime.sessions) as session:
        await flows.save(session, runtime.secrets, shop.workspace_id, ORDER, publish=True)
    # 40 people start the flow, then give an answer it does not take (asked again).
    start = [_says(f"p{n}", f"m{n}a", "Đặt hàng", n) for n in range(40)]
    done, statements_start = await _apply(
        runtime, await _claimed(runtime, shop.workspace_id, account, start)
    )
    assert len(done) == 40
    again = [_says(f"p{n}", f"m{n}b", "không nhớ", 50 + n) for n in range(40)]
    done, statements_again = await _apply(
        runtime, await _claimed(runtime, shop.workspace_id, account, again)
    )
    assert len(done) == 40
    # Per batch: the published flows once, the runs of the batch's conversations once,
    # fields and tags of its senders once (a query each), runs written by the batch's flush.
    assert statements_start <= 21, statements_start  # SQLite 17, PostgreSQL 21
    assert statements_again <= 21, statements_again  # SQLite 20, PostgreSQL 21
    async with runtime.sessions() as session:
        runs = (await session.scalars(select(FlowRun))).all()
        assert len(runs) == 40 and {r.turns for r in runs} == {2}
        texts = (
            await session.scalars(select(Message.text).where(Message.direction == "out"))
        ).all()
        assert len(texts) == 80 and set(texts) == {"SĐT của bạn?"}
    # Their phones: fields and tags written, the thanks read them, every run ends.
    phones = [_says(f"p{n}", f"m{n}c", f"09123456{n:02d}", 100 + n) for n in range(40)]
    done, _ = await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, phones))
    assert len(done) == 40
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FlowRun)) == 0
        contact = await session.scalar(
            select(Contact.id)
            .join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
            .where(ContactIdentity.external_id == "p7")
        )
        assert contact is not None
        assert (await contacts.fields_of(session, contact))["phone"] == "+84912345607"
        assert await contacts.tags_of(session, contact) == ["Khách đặt hàng"]
        thanks = (
            await session.scalars(
                select(Message.text).where(Message.text.startswith("Cảm ơn")).order_by(Message.id)
            )
        ).all()
        assert len(thanks) == 40 and thanks[7] == "Cảm ơn! Shop gọi +84912345607 nhé"


async def test_a_run_that_ends_and_starts_again_in_one_batch(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    account = await _account(runtime, shop.workspace_id)
    async with transaction(runtime.sessions) as session:
        await flows.save(session, runtime.secrets, shop.workspace_id, ORDER, publish=True)
    first = [_says("an", "m1", "đặt hàng", 1)]
    await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, first))
    # One batch: the run ends (phone given), a new one starts, and is answered again.
    events = [
        _says("an", "m2", "0912345678", 2),
        _says("an", "m3", "đặt hàng", 3),
        _says("an", "m4", "0912345679", 4),
        _says("an", "m5", "đặt hàng", 5),
    ]
    done, _ = await _apply(runtime, await _claimed(runtime, shop.workspace_id, account, events))
    assert len(done) == 4
    async with runtime.sessions() as session:
        texts = (
            await session.scalars(
                select(Message.text).where(Message.direction == "out").order_by(Message.id)
            )
        ).all()
        (run,) = (await session.scalars(select(FlowRun))).all()
    assert texts == [
        "SĐT của bạn?",
        "Cảm ơn! Shop gọi +84912345678 nhé",
        "SĐT của bạn?",
        "Cảm ơn! Shop gọi +84912345679 nhé",
        "SĐT của bạn?",
    ]
    assert run.turns == 1
