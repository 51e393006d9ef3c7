"""An inbound batch of known people is claimed, applied and marked done in one transaction,
and its replies are handed to the dispatcher claimed as they are written (outbox Handoff):
sent right after the commit, never by a second worker, and by the outbox loop if the worker
died before sending them. A batch that fails in one piece is rolled back, claim and all,
and taken apart on the next claim."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from chatcart.channels import service as channels
from chatcart.channels.meta.webhook import split_webhook
from chatcart.channels.schemas import NewInbound
from chatcart.conversations import engine
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import InboundEvent, Message, OutboundMessage
from chatcart.outbox.dispatch import Dispatcher
from chatcart.outbox.schemas import Handoff
from chatcart.runtime import Runtime
from chatcart.sandbox.graph import emit
from chatcart.worker.loops import Worker
from tests.broadcasts.world import PAGE, World, psid, sandbox_world


@pytest.fixture
async def world(runtime: Runtime) -> AsyncIterator[World]:
    async with sandbox_world(runtime) as w:
        yield w


async def _write(world: World, *said: tuple[int, str]) -> None:
    """Person i writes text: the webhook recorded as the door records it."""
    items = []
    for i, text in said:
        event = world.graph.build.user_says(PAGE, psid(i), text)
        event.apply()
        body = emit.encode(emit.envelope([event]))
        for item in split_webhook(body, "page").items:
            items.append(
                NewInbound(
                    workspace_id=world.shop.workspace_id,
                    channel_account_id=world.account_id,
                    external_id=item.external_id,
                    sender_external_id=item.sender_id,
                    body=item.body.decode(),
                )
            )
    async with transaction(world.rt.sessions) as session:
        await channels.record_inbound_many(session, items)


def _replies(world: World) -> dict[str, int]:
    """Messages (not sender actions) the sandbox accepted, per person."""
    counts: dict[str, int] = {}
    for record in world.graph.sends(PAGE):
        if record.accepted and record.user_id and record.sender_action is None:
            counts[record.user_id] = counts.get(record.user_id, 0) + 1
    return counts


async def _handing(world: World, people: int) -> Worker:
    """`people` known persons, and a worker that hands replies over (as `run` sets it)."""
    await world.add_people(people)
    worker = Worker(world.rt, worker_id="w1")
    worker.hand_over = True
    return worker


async def _outbound(world: World) -> list[tuple[str, str | None]]:
    async with world.rt.sessions() as session:
        rows = await session.execute(
            select(OutboundMessage.status, OutboundMessage.claimed_by).order_by(OutboundMessage.id)
        )
        return [(status, claimed_by) for status, claimed_by in rows.all()]


async def test_replies_go_out_right_after_the_commit_and_no_other_worker_takes_them(
    world: World,
) -> None:
    worker = await _handing(world, 3)
    other = Worker(world.rt, worker_id="w2")
    await _write(world, (0, "chào shop"), (1, "còn hàng không"), (2, "giá bao nhiêu"))

    assert await worker.inbound_once() == 3
    # Written claimed by w1: the outbox loop of another worker finds nothing to send.
    assert await other.dispatcher.run_once() == 0
    await worker.sends_end()
    assert _replies(world) == {psid(0): 1, psid(1): 1, psid(2): 1}
    assert await _outbound(world) == [("sent", None)] * 3
    # Nothing is left for any outbox loop, and nothing was sent twice.
    assert await other.dispatcher.run_once() == 0
    assert await worker.dispatcher.run_once() == 0
    assert _replies(world) == {psid(0): 1, psid(1): 1, psid(2): 1}


async def test_without_hand_over_the_replies_wait_for_the_outbox_loop(world: World) -> None:
    await world.add_people(1)
    worker = Worker(world.rt, worker_id="w1")  # tests and tools calling inbound_once
    await _write(world, (0, "chào shop"))
    assert await worker.inbound_once() == 1
    assert await _outbound(world) == [("queued", None)]
    assert await worker.dispatcher.run_once() == 1
    assert _replies(world) == {psid(0): 1}


async def test_replies_of_a_worker_that_died_are_sent_when_the_claim_expires(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = await _handing(world, 2)

    async def dies(self: Dispatcher, handoff: Handoff) -> None:
        raise SystemError("killed before sending")

    monkeypatch.setattr(Dispatcher, "send_handed", dies)
    await _write(world, (0, "chào shop"), (1, "alo"))
    assert await worker.inbound_once() == 2
    await worker.sends_end()
    assert await _outbound(world) == [("queued", "w1")] * 2
    monkeypatch.undo()

    other = Worker(world.rt, worker_id="w2")
    assert await other.dispatcher.run_once() == 0  # still w1's
    async with transaction(world.rt.sessions) as session:
        await session.execute(
            update(OutboundMessage).values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    assert await other.dispatcher.run_once() == 2
    assert _replies(world) == {psid(0): 1, psid(1): 1}


async def test_a_batch_that_fails_whole_is_taken_apart_and_only_the_bad_event_waits(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = await _handing(world, 3)
    real = engine._HANDLERS["message"]

    async def fragile(step: Any) -> None:
        if step.event.content.text == "boom":
            raise RuntimeError("a bug this message meets")
        await real(step)

    monkeypatch.setitem(engine._HANDLERS, "message", fragile)
    await _write(world, (0, "chào shop"), (1, "boom"), (2, "alo"))

    # One transaction for claim and batch: rolled back whole, nothing half-written.
    assert await worker.inbound_once() == 3
    async with world.rt.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0
        states = (await session.execute(select(InboundEvent.status, InboundEvent.claimed_by))).all()
    assert sorted(states) == [("pending", None)] * 3

    # Taken again, apart: the good ones answered (one by one, through the outbox loop), the
    # bad one backs off to be tried later.
    assert await worker.inbound_once() == 3
    await worker.sends_end()
    assert await worker.dispatcher.run_once() == 2
    assert _replies(world) == {psid(0): 1, psid(2): 1}
    async with world.rt.sessions() as session:
        rows = (
            await session.execute(
                select(InboundEvent.status, InboundEvent.attempts, InboundEvent.error).order_by(
                    InboundEvent.id
                )
            )
        ).all()
    assert [(status, attempts) for status, attempts, _ in rows] == [
        ("done", 1),
        ("pending", 1),
        ("done", 1),
    ]
    assert rows[1][2] == "RuntimeError: a bug this message meets"
    assert await worker.inbound_once() == 0  # backed off, not hot-looping
