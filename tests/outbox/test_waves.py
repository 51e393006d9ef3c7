"""Replies to a Messenger Page go out in per-Page waves of Graph batch requests (outbox/waves.py):
one request carries one message of each person, each person's messages stay in order, a
failure holds back only that person, a lost batch is sent again, and the courtesy sender
actions ride in one request before and one after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pytest
from sqlalchemy import select, update

from chatcart.channels.base import AccountRef, MessageContent, SendError, SendResult
from chatcart.channels.meta.graph import GraphAdapter
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.models import ContactIdentity, DeliveryAttempt, OutboundMessage
from chatcart.outbox import service as outbox
from chatcart.runtime import Runtime
from chatcart.worker.loops import Worker
from tests.broadcasts.world import PAGE, World, psid, sandbox_world


@pytest.fixture
async def world(runtime: Runtime) -> AsyncIterator[World]:
    async with sandbox_world(runtime) as w:
        yield w


class BatchLog:
    """The Graph batch requests the adapters make, each as its calls' Send API bodies."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[list[dict[str, Any]]] = []
        # Requests carrying messages (1, 2... in order) whose answer is lost on the way back.
        self.lose: set[int] = set()
        real = GraphAdapter._batch

        async def logged(
            adapter: GraphAdapter, account: AccountRef, token: str, calls: list[dict[str, str]]
        ) -> list[SendResult | SendError]:
            self.requests.append([_body(call) for call in calls])
            answers = await real(adapter, account, token, calls)  # Meta took them...
            if len(self.messages()) in self.lose and "message" in self.requests[-1][0]:
                # ... and the answer never came back
                return [SendError("unknown", "batch_lost", "connection reset")] * len(calls)
            return answers

        monkeypatch.setattr(GraphAdapter, "_batch", logged)

    def messages(self) -> list[list[tuple[str, str]]]:
        """The requests carrying messages, as (psid, text) per call."""
        return [
            [(c["recipient"]["id"], c["message"]["text"]) for c in request]
            for request in self.requests
            if any("message" in c for c in request)
        ]

    def actions(self, number: int) -> list[tuple[str, str]]:
        return sorted((c["recipient"]["id"], c["sender_action"]) for c in self.requests[number])


def _body(call: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = dict(parse_qsl(call["body"]))
    for name in ("recipient", "message"):
        if name in body:
            body[name] = orjson.loads(body[name])
    return body


async def _queue(world: World, people: int, each: int) -> None:
    """`each` bot replies ("p<i>:<n>") to each of `people` who wrote an hour ago."""
    await world.add_people(people, window_hours=1)
    async with transaction(world.rt.sessions) as session:
        identities = (
            await session.execute(
                select(ContactIdentity).order_by(ContactIdentity.id).limit(people)
            )
        ).scalars()
        effects = Effects()
        for i, identity in enumerate(identities):
            assert identity.external_id == psid(i)
            for n in range(each):
                await outbox.enqueue(
                    session,
                    effects,
                    workspace_id=world.shop.workspace_id,
                    channel_account_id=world.account_id,
                    identity_id=identity.id,
                    contact_id=identity.contact_id,
                    conversation_id=None,
                    message_id=None,
                    idempotency_key=f"p{i}:{n}",
                    content=MessageContent(text=f"p{i}:{n}"),
                )


def _texts_to(world: World, i: int) -> list[str]:
    """The messages person i got (accepted by the sandbox), in the order they arrived."""
    return [
        r.request["message"]["text"]
        for r in world.graph.sends(PAGE, psid(i), accepted=True)
        if r.message is not None
    ]


async def _rows(world: World) -> dict[str, OutboundMessage]:
    async with world.rt.sessions() as session:
        rows = (await session.scalars(select(OutboundMessage))).all()
    return {row.idempotency_key: row for row in rows}


async def _due_now(world: World) -> None:
    async with transaction(world.rt.sessions) as session:
        await session.execute(update(OutboundMessage).values(next_attempt_at=utcnow()))


async def test_one_request_per_wave_and_each_persons_messages_in_order(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 people with 3 replies each (36 claimed: no courtesy actions): three batch
    requests, the k-th holding the k-th reply of every person."""
    log = BatchLog(monkeypatch)
    await _queue(world, 12, 3)
    assert await Worker(world.rt, "w").dispatcher.run_once() == 36
    waves = log.messages()
    assert len(log.requests) == len(waves) == 3
    for n, wave in enumerate(waves):
        assert sorted(wave) == sorted((psid(i), f"p{i}:{n}") for i in range(12))
    for i in range(12):
        assert _texts_to(world, i) == [f"p{i}:0", f"p{i}:1", f"p{i}:2"]
    rows = await _rows(world)
    assert {r.status for r in rows.values()} == {"sent"} and len(rows) == 36
    assert all(r.external_id and r.external_id.startswith("m_") for r in rows.values())


async def test_a_failed_message_holds_back_only_that_persons_next_ones(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = BatchLog(monkeypatch)
    await _queue(world, 3, 3)
    world.graph.set_unavailable(PAGE, psid(1))  # Meta refuses person 1 (551)
    assert await Worker(world.rt, "w").dispatcher.run_once() == 9
    assert [len(wave) for wave in log.messages()] == [3, 2, 2]
    assert _texts_to(world, 0) == ["p0:0", "p0:1", "p0:2"]
    assert _texts_to(world, 2) == ["p2:0", "p2:1", "p2:2"]
    refused = [r for r in world.graph.sends(PAGE, psid(1)) if r.message is not None]
    assert len(refused) == 1 and not refused[0].accepted  # the later ones were not tried
    rows = await _rows(world)
    failed = rows["p1:0"]
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.error_code is not None and failed.error_code.startswith("551")
    for key in ("p1:1", "p1:2"):  # deferred, not attempted: they wait their turn
        assert (rows[key].status, rows[key].attempts) == ("queued", 0)
        assert rows[key].claimed_by is None
    assert rows["p1:1"].next_attempt_at < rows["p1:2"].next_attempt_at


async def test_a_lost_batch_is_sent_again_later_not_left_unknown(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first wave reached Meta but its answer was lost: a reply is sent again after
    the backoff (at least once, as a timed-out single send), and the next messages of
    each person wait behind it."""
    log = BatchLog(monkeypatch)
    log.lose = {1}
    await _queue(world, 3, 2)
    dispatcher = Worker(world.rt, "w").dispatcher
    assert await dispatcher.run_once() == 6
    assert len(log.messages()) == 1  # the second wave waits behind the lost first one
    rows = await _rows(world)
    for i in range(3):
        lost, behind = rows[f"p{i}:0"], rows[f"p{i}:1"]
        assert (lost.status, lost.attempts, lost.error_code) == ("queued", 1, "batch_lost")
        assert lost.next_attempt_at > utcnow()
        assert (behind.status, behind.attempts) == ("queued", 0)
        assert behind.next_attempt_at > lost.next_attempt_at
    async with world.rt.sessions() as session:
        attempts = (await session.scalars(select(DeliveryAttempt.outcome))).all()
    assert attempts == ["retry"] * 3
    await _due_now(world)
    assert await dispatcher.run_once() == 6
    rows = await _rows(world)
    assert {r.status for r in rows.values()} == {"sent"}
    for i in range(3):  # the lost one arrived twice (at least once), then the next
        assert _texts_to(world, i) == [f"p{i}:0", f"p{i}:0", f"p{i}:1"]


async def test_courtesy_actions_go_in_one_request_before_and_one_after(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = BatchLog(monkeypatch)
    await _queue(world, 3, 2)
    assert await Worker(world.rt, "w").dispatcher.run_once() == 6
    people = [psid(i) for i in range(3)]
    assert len(log.requests) == 4  # seen + typing, two waves, typing off
    assert log.actions(0) == sorted((p, a) for p in people for a in ("mark_seen", "typing_on"))
    assert [len(wave) for wave in log.messages()] == [3, 3]
    assert log.actions(3) == [(p, "typing_off") for p in people]
    for p in people:
        calls = world.graph.sends(PAGE, p)
        assert all(c.accepted for c in calls)
        order = [c.sender_action or "message" for c in calls]
        assert sorted(order[:2]) == ["mark_seen", "typing_on"]
        assert order[2:] == ["message", "message", "typing_off"]


async def test_courtesy_actions_without_a_spare_token_are_skipped(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = BatchLog(monkeypatch)

    async def none_spare(*_: Any, **__: Any) -> bool:
        return False

    monkeypatch.setattr(world.rt.limiter, "try_acquire_spare", none_spare)
    await _queue(world, 2, 1)
    assert await Worker(world.rt, "w").dispatcher.run_once() == 2
    assert len(log.requests) == 1 and len(log.messages()[0]) == 2
    assert not [c for c in world.graph.sends(PAGE) if c.sender_action]
