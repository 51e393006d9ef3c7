"""Worker loops: inbound events and outbound messages. Each loop drains what is due, then
sleeps until a wake-up on the bus or the poll interval, whichever comes first."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable

from chatcart.channels import service as channels
from chatcart.conversations import service as conversations
from chatcart.kit.crypto import random_token
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.outbox.dispatch import Dispatcher
from chatcart.runtime import Runtime

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{random_token(4)}"


class Worker:
    def __init__(self, runtime: Runtime, worker_id: str | None = None) -> None:
        self.rt = runtime
        self.id = worker_id or new_worker_id()
        settings = runtime.settings
        self.dispatcher = Dispatcher(
            sessions=runtime.sessions,
            bus=runtime.bus,
            secrets=runtime.secrets,
            adapters=runtime.adapters,
            worker_id=self.id,
            batch=settings.worker_batch_size,
            lease_seconds=settings.claim_seconds,
            max_attempts=settings.outbox_max_attempts,
        )
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        log.info("worker %s started", self.id)
        await asyncio.gather(
            self._loop("inbound", self.inbound_once), self._loop("outbox", self.dispatcher.run_once)
        )

    def stop(self) -> None:
        self._stopping.set()

    async def _loop(self, name: str, once: Callable[[], Awaitable[int]]) -> None:
        poll = self.rt.settings.worker_poll_seconds
        async with self.rt.bus.subscribe(f"wake:{name}") as wakeups:
            while not self._stopping.is_set():
                try:
                    done = await once()
                except Exception:
                    log.exception("%s loop failed; retrying after %ss", name, poll)
                    done = 0
                if done:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeups.get(), timeout=poll)
                while not wakeups.empty():  # one drain serves every queued wake-up
                    wakeups.get_nowait()

    async def inbound_once(self) -> int:
        settings = self.rt.settings
        async with transaction(self.rt.sessions) as session:
            ids = await channels.claim_inbound(
                session, self.id, settings.worker_batch_size, settings.claim_seconds
            )
        for event_id in ids:
            await self.process_inbound(event_id)
        return len(ids)

    async def process_inbound(self, event_id: int) -> None:
        effects = Effects()
        try:
            async with transaction(self.rt.sessions) as session:
                await conversations.process_inbound(
                    session, effects, self.rt.adapters, self.rt.secrets, event_id, self.id
                )
        except Exception as exc:
            log.exception("inbound event %s failed", event_id)
            async with transaction(self.rt.sessions) as session:
                await channels.retry_inbound(
                    session,
                    event_id,
                    f"{type(exc).__name__}: {exc}",
                    max_attempts=self.rt.settings.inbound_max_attempts,
                )
            return
        await effects.flush(self.rt.bus)
