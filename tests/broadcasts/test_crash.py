"""Crash safety and the scaled shape, with real `chatcart worker` processes against the Graph
sandbox, asserted from the sandbox's own record of accepted sends."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chatcart.config import Settings
from chatcart.models import BroadcastRecipient
from chatcart.runtime import Runtime
from tests.broadcasts.world import World, psid, sandbox_world
from tests.conftest import PG_URL
from tests.helpers.servers import settings_env

REDIS_URL = os.environ.get("CHATCART_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


def start_worker(settings: Settings, world: World, log: Path) -> subprocess.Popen[bytes]:
    env = settings_env(settings) | {
        "CHATCART_GRAPH_API_URL": world.graph_url,
        "CHATCART_CLAIM_SECONDS": "3",  # a crashed worker's claims run out quickly
        "CHATCART_BROADCAST_CLAIM_BATCH": "100",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "chatcart", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


async def wait_for(world: World, broadcast_id: int, *, sent: int | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sent is not None and len(world.accepted_by_user()) >= sent:
            return
        if sent is None and (await world.progress(broadcast_id)).status == "done":
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out: {await world.progress(broadcast_id)}")


async def test_kill_9_in_the_middle_of_10000_recipients(runtime: Runtime, tmp_path: Path) -> None:
    n = 10_000
    async with sandbox_world(runtime) as world:
        await world.add_people(n, window_hours=1)
        created = await world.create()
        await world.start(created.id)
        settings = runtime.settings
        log = tmp_path / "worker.log"
        first = start_worker(settings, world, log)
        try:
            await wait_for(world, created.id, sent=n // 4, timeout=180)
        finally:
            stop(first, signal.SIGKILL)  # no shutdown hooks: a crash
        killed_at = len(world.accepted_by_user())
        assert killed_at < n
        second = start_worker(settings, world, log)
        try:
            await wait_for(world, created.id, sent=None, timeout=300)
        finally:
            stop(second)
        accepted = world.accepted_by_user()
        async with runtime.sessions() as session:
            rows = (
                await session.execute(
                    select(BroadcastRecipient.status, BroadcastRecipient.external_id).where(
                        BroadcastRecipient.broadcast_id == created.id
                    )
                )
            ).all()
        statuses: dict[str, int] = {}
        for status, _ in rows:
            statuses[status] = statuses.get(status, 0) + 1
        # 0 duplicates: the sandbox accepted at most one message per person.
        assert max(accepted.values()) == 1
        # 0 missing: every recipient is sent or, if in flight at the kill, unknown.
        assert len(rows) == n
        assert set(statuses) <= {"sent", "unknown"}, statuses
        sent_ids = {mid for status, mid in rows if status == "sent"}
        assert len(sent_ids) == statuses["sent"]
        assert statuses["sent"] + statuses.get("unknown", 0) == n
        assert statuses.get("unknown", 0) <= 200  # at most one claim batch per send group
        accepted_mids = {r.message_id for r in world.graph.sends() if r.accepted and r.message_id}
        assert sent_ids <= accepted_mids
        assert len(accepted) >= statuses["sent"]
        assert {psid(i) for i in range(n)} >= set(accepted)


@pytest.mark.skipif(not PG_URL, reason="the scaled shape: PostgreSQL + Redis")
async def test_two_workers_share_one_broadcast_on_postgresql(
    runtime: Runtime, tmp_path: Path
) -> None:
    n = 600
    async with sandbox_world(runtime) as world:
        await world.add_people(n, window_hours=1)
        created = await world.create(max_per_second=100)
        settings = runtime.settings.model_copy(update={"redis_url": REDIS_URL})
        log = tmp_path / "workers.log"
        workers = [start_worker(settings, world, log) for _ in range(2)]
        try:
            await asyncio.sleep(1.0)  # both running before the start
            started = time.monotonic()
            await world.start(created.id)
            await wait_for(world, created.id, sent=None, timeout=120)
            elapsed = time.monotonic() - started
        finally:
            for proc in workers:
                stop(proc)
        accepted = world.accepted_by_user()
        assert len(accepted) == n
        assert set(accepted.values()) == {1}
        # 600 at 100/s shared through Redis: the first 100 at once, then 100 per second.
        assert elapsed >= 4.5
        async with runtime.sessions() as session:
            by_worker = (
                await session.execute(
                    select(BroadcastRecipient.claimed_by, func.count()).group_by(
                        BroadcastRecipient.claimed_by
                    )
                )
            ).all()
        # Both workers sent part of it (the ledger keeps the last worker that handled a row).
        assert len({w for w, _ in by_worker if w is not None}) == 2, by_worker
