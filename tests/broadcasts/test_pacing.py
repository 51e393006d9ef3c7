"""Pacing: "send N, then pause S ± jitter" with a controllable clock, quiet hours in the
contact's time zone, the per-second cap, and Meta's rate-limit errors (the account backs off,
the run goes on)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from chatcart.broadcasts import runner as runner_module
from chatcart.broadcasts import service as broadcasts
from chatcart.broadcasts.pacing import Pacer, per_second_limit
from chatcart.broadcasts.plan import quiet_until
from chatcart.kit.db import transaction
from chatcart.models import BroadcastRecipient, ContactIdentity
from chatcart.runtime import Runtime
from tests.broadcasts.test_run import run_to_end, runner
from tests.broadcasts.world import PAGE, World, sandbox_world


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(datetime.now(UTC))
    monkeypatch.setattr(runner_module, "utcnow", fake)
    return fake


def test_pauses_stay_within_the_jitter_and_average_the_pause() -> None:
    pacer = Pacer(batch_size=50, pause_seconds=30, jitter_seconds=5)
    rng = random.Random(3)
    pauses = [pacer.pause(rng).total_seconds() for _ in range(2000)]
    assert min(pauses) >= 25
    assert max(pauses) <= 35
    assert abs(sum(pauses) / len(pauses) - 30) < 0.5
    assert len({round(p, 3) for p in pauses}) > 1000  # really random
    assert pacer.room(taken=45, claim_batch=200) == 5
    assert pacer.fills(50)
    assert not pacer.fills(49)
    assert Pacer(None, 0, 0).room(taken=10_000, claim_batch=200) == 200


def test_per_second_caps_in_limits_syntax() -> None:
    assert per_second_limit(20) == "20/second"
    assert per_second_limit(2.7) == "2/second"
    assert per_second_limit(0.5) == "1/2 second"


def test_quiet_hours_span_midnight_in_the_contacts_zone() -> None:
    saigon = ZoneInfo("Asia/Ho_Chi_Minh")
    late = datetime(2026, 11, 21, 23, 30, tzinfo=saigon).astimezone(UTC)
    until = quiet_until(21, 8, saigon, late)
    assert until == datetime(2026, 11, 22, 8, 0, tzinfo=saigon).astimezone(UTC)
    early = datetime(2026, 11, 22, 6, 0, tzinfo=saigon).astimezone(UTC)
    assert quiet_until(21, 8, saigon, early) == until
    noon = datetime(2026, 11, 22, 12, 0, tzinfo=saigon).astimezone(UTC)
    assert quiet_until(21, 8, saigon, noon) is None
    assert quiet_until(12, 14, saigon, noon) == datetime(2026, 11, 22, 14, tzinfo=saigon)


async def test_send_n_then_pause_with_jitter_on_a_controlled_clock(
    world: World, clock: FakeClock
) -> None:
    await world.add_people(23, window_hours=1)
    created = await world.create(batch_size=5, pause_seconds=10, jitter_seconds=2)
    await world.start(created.id)
    bc = runner(world)
    sent_at: list[float] = []  # fake seconds since start, one per send
    for step in range(200):
        before = len(world.graph.sends(PAGE))
        await bc.run_once()
        sent_at += [float(step)] * (len(world.graph.sends(PAGE)) - before)
        if (await world.progress(created.id)).status == "done":
            break
        clock.advance(1)
    assert len(sent_at) == 23
    groups: dict[float, int] = {}
    for t in sent_at:
        groups[t] = groups.get(t, 0) + 1
    starts = sorted(groups)
    assert [groups[t] for t in starts] == [5, 5, 5, 5, 3]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(8 <= g <= 13 for g in gaps), gaps
    assert len(set(gaps)) > 1 or gaps == [gaps[0]] * len(gaps)


async def test_quiet_hours_hold_messages_until_morning(world: World, clock: FakeClock) -> None:
    saigon = ZoneInfo("Asia/Ho_Chi_Minh")
    local = clock.now.astimezone(saigon)
    clock.now = local.replace(hour=23, minute=0).astimezone(UTC)
    await world.add_people(3, window_hours=0.5, tz="Asia/Ho_Chi_Minh")
    created = await world.create(quiet_start_hour=21, quiet_end_hour=8)
    async with world.rt.sessions() as session:
        plan = await broadcasts.plan(session, world.shop.workspace_id, created.id, now=clock.now)
    assert (plan.reachable, plan.later) == (3, 3)
    await world.start(created.id)
    bc = runner(world)
    for _ in range(3):
        await bc.run_once()
    assert world.graph.sends(PAGE) == []
    progress = await world.progress(created.id)
    assert progress.pending == 3
    clock.now = (local.replace(hour=8, minute=0) + timedelta(days=1)).astimezone(UTC)
    # The people wrote 30 minutes before the real now; the window is judged at the fake
    # morning: keep it open by moving their last message along.
    async with transaction(world.rt.sessions) as session:
        await session.execute(
            update(ContactIdentity).values(last_inbound_at=clock.now - timedelta(hours=1))
        )
    await run_to_end(world, created.id, bc)
    assert len(world.accepted_by_user()) == 3


async def test_the_per_second_cap_holds(world: World) -> None:
    await world.add_people(60, window_hours=1)
    created = await world.create(max_per_second=20)
    await world.start(created.id)
    started = time.monotonic()
    await run_to_end(world, created.id, runner(world))
    elapsed = time.monotonic() - started
    assert len(world.accepted_by_user()) == 60
    assert elapsed >= 1.9  # 60 at 20/s: the first 20 at once, then 20 per second


async def test_rate_limit_errors_back_the_account_off_and_the_run_goes_on(
    runtime: Runtime,
) -> None:
    async with sandbox_world(runtime, rate=10) as world:
        await world.add_people(25, window_hours=1)
        created = await world.create()
        await world.start(created.id)
        bc = runner(world)
        refused = 0
        for _ in range(400):
            await bc.run_once()
            refused = sum(1 for r in world.graph.sends(PAGE) if not r.accepted)
            progress = await world.progress(created.id)
            if progress.status == "done":
                break
            if refused:
                # Skip the back-off waits (Meta asks for a minute) in the test.
                bc._paused.clear()
                async with transaction(world.rt.sessions) as session:
                    await session.execute(
                        update(BroadcastRecipient)
                        .where(BroadcastRecipient.status == "pending")
                        .values(next_attempt_at=datetime(2026, 1, 1, tzinfo=UTC))
                    )
            await asyncio.sleep(0.05)
        assert refused > 0
        accepted = world.accepted_by_user()
        assert len(accepted) == 25
        assert set(accepted.values()) == {1}
        assert (await world.progress(created.id)).failed == 0
