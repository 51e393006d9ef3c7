"""Group commit: many concurrent callers, one write per batch.

Each caller awaits until the batch holding its items is durably written (or failed). While
one flush runs, new submissions pile up and go together in the next one, so batches grow
with load and an idle system writes at once — no timer, no added latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommitter(Generic[T]):
    def __init__(self, flush: Callable[[list[T]], Awaitable[None]], max_batch: int = 1000) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._queue: list[tuple[list[T], asyncio.Future[None]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, items: list[T]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((items, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        await future

    async def _run(self) -> None:
        while self._queue:
            # Let every caller that is ready to submit do so first: callers woken by the last
            # flush are still queued as callbacks, and a flush started now would go alone.
            await asyncio.sleep(0)
            taken: list[tuple[list[T], asyncio.Future[None]]] = []
            count = 0
            while self._queue and (not taken or count + len(self._queue[0][0]) <= self._max_batch):
                entry = self._queue.pop(0)
                taken.append(entry)
                count += len(entry[0])
            try:
                await self._flush([item for items, _ in taken for item in items])
            except Exception as exc:
                for _, future in taken:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in taken:
                    if not future.done():
                        future.set_result(None)

    async def close(self) -> None:
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
