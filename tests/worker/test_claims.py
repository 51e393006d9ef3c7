"""Claiming durable work: disjoint batches, expiring claims, retries, and kept failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from chatcart.channels import service as channels
from chatcart.channels.schemas import ChannelAccountOut
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import InboundEvent, Message
from chatcart.runtime import Runtime
from chatcart.worker.loops import Worker
from tests.helpers.factory import make_shop


async def _record(runtime: Runtime, account: ChannelAccountOut, n: int, body: bytes) -> None:
    async with transaction(runtime.sessions) as session:
        for i in range(n):
            await channels.record_inbound(
                session, account, external_id=f"ev-{i}", body=body, sender_external_id="v"
            )


async def _account(runtime: Runtime) -> ChannelAccountOut:
    shop = await make_shop(runtime)
    async with runtime.sessions() as session:
        return await channels.get_account(session, shop.widget_account_id)


async def test_concurrent_claims_never_share_a_row(runtime: Runtime) -> None:
    account = await _account(runtime)
    await _record(runtime, account, 30, b"{}")

    async def claim(worker: str) -> list[int]:
        async with transaction(runtime.sessions) as session:
            return await channels.claim_inbound(session, worker, 10, 60)

    batches = await asyncio.gather(*(claim(f"w{i}") for i in range(4)))
    claimed = [event_id for batch in batches for event_id in batch]
    assert len(claimed) == len(set(claimed)) == 30
    assert sorted(len(b) for b in batches) == [0, 10, 10, 10]


async def test_claim_and_read_in_one_statement_disjoint_and_in_due_order(
    runtime: Runtime,
) -> None:
    """UPDATE ... RETURNING: concurrent claims still never share a row, and each gets
    its rows (with their bodies) in the order they came due."""
    account = await _account(runtime)
    async with transaction(runtime.sessions) as session:
        for i in range(30):
            await channels.record_inbound(
                session, account, external_id=f"ev-{i}", body=f'{{"n": {i}}}'.encode()
            )
        # Due in the reverse order of their ids.
        for i in range(30):
            await session.execute(
                update(InboundEvent)
                .where(InboundEvent.external_id == f"ev-{i}")
                .values(available_at=utcnow() - timedelta(seconds=i))
            )

    async def claim(worker: str) -> list[bytes]:
        async with transaction(runtime.sessions) as session:
            rows = await channels.claim_inbound_rows(session, worker, 10, 60)
            return [row.body for row in rows]

    batches = await asyncio.gather(*(claim(f"w{i}") for i in range(4)))
    bodies = [body for batch in batches for body in batch]
    assert len(bodies) == len(set(bodies)) == 30
    assert sorted(len(b) for b in batches) == [0, 10, 10, 10]
    for batch in batches:  # the earliest due first: the highest n first
        numbers = [int(body.decode().split(":")[1].strip(" }")) for body in batch]
        assert numbers == sorted(numbers, reverse=True)
    async with runtime.sessions() as session:
        owners = (await session.scalars(select(InboundEvent.claimed_by))).all()
    assert sorted(set(owners)) == sorted({f"w{i}" for i, b in enumerate(batches) if b})


async def test_an_expired_claim_is_taken_again(runtime: Runtime) -> None:
    account = await _account(runtime)
    await _record(runtime, account, 1, b"{}")
    async with transaction(runtime.sessions) as session:
        assert len(await channels.claim_inbound(session, "crashed", 10, 60)) == 1
    async with transaction(runtime.sessions) as session:
        assert await channels.claim_inbound(session, "other", 10, 60) == []
        await session.execute(
            update(InboundEvent).values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    async with transaction(runtime.sessions) as session:
        assert len(await channels.claim_inbound(session, "other", 10, 60)) == 1


async def test_a_malformed_event_is_kept_and_reported_not_lost(runtime: Runtime) -> None:
    account = await _account(runtime)
    await _record(runtime, account, 1, b'{"visitor_id": "v"}')
    worker = Worker(runtime, worker_id="w")
    assert await worker.inbound_once() == 1
    async with runtime.sessions() as session:
        event = await session.scalar(select(InboundEvent))
        assert event is not None
        assert event.status == "failed"
        assert event.error is not None and event.error.startswith("parse: not a widget message")
        assert event.body == '{"visitor_id": "v"}'  # the raw body stays for a replay
        assert await session.scalar(select(Message)) is None


async def test_a_crash_while_processing_backs_off_then_gives_up(runtime: Runtime) -> None:
    account = await _account(runtime)
    await _record(runtime, account, 1, b"{}")
    worker = Worker(runtime, worker_id="w")

    class Boom(RuntimeError):
        pass

    def explode(*_: object) -> list[object]:
        raise Boom("adapter bug")

    runtime.adapters["webchat"].parse = explode  # type: ignore[method-assign]
    assert await worker.inbound_once() == 1
    async with runtime.sessions() as session:
        event = await session.scalar(select(InboundEvent))
        assert event is not None
        assert (event.status, event.attempts, event.claimed_by) == ("pending", 1, None)
        assert event.error == "Boom: adapter bug"
        assert event.available_at > utcnow()  # backed off, not hot-looping
    for _ in range(4):
        async with transaction(runtime.sessions) as session:
            await session.execute(update(InboundEvent).values(available_at=utcnow()))
        await worker.inbound_once()
    async with runtime.sessions() as session:
        event = await session.scalar(select(InboundEvent))
        assert event is not None
        assert (event.status, event.attempts) == ("failed", 5)
