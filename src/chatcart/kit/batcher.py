"""Group commit: many concurrent callers, one write per batch.

Each caller awaits until the batch holding its items is durably written (or failed). The
flush takes the items only once it is ready to write them (`take()`, called when it holds
its database connection): on SQLite, whose one connection the worker's transactions hold
for tens of milliseconds at a time, everything submitted while the flush waited for it goes
in this batch instead of waiting for the connection's next turn. Batches grow with load
and an idle system writes at once — no timer, no added latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")

Take = Callable[[], list[T]]
_Entry = tuple[list[T], "asyncio.Future[None]"]


class GroupCommitter(Generic[T]):
    def __init__(self, flush: Callable[[Take[T]], Awaitable[None]], max_batch: int = 1000) -> None:
        """flush(take): get ready to write, call take() once for the items, write them."""
        self._flush = flush
        self._max_batch = max_batch
        self._queue: list[_Entry[T]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, items: list[T]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((items, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        await future

    def _take(self, taken: list[_Entry[T]]) -> list[T]:
        count = 0
        while self._queue and (not taken or count + len(self._queue[0][0]) <= self._max_batch):
            entry = self._queue.pop(0)
            taken.append(entry)
            count += len(entry[0])
        return [item for items, _ in taken for item in items]

    async def _run(self) -> None:
        while self._queue:
            # Let every caller that is ready to submit do so first: callers woken by the last
            # flush are still queued as callbacks, and a flush started now would go alone.
            await asyncio.sleep(0)
            taken: list[_Entry[T]] = []
            try:
                await self._flush(partial(self._take, taken))
                if not taken:
                    raise RuntimeError("a group commit's flush returned without take()")
            except Exception as exc:
                if not taken:  # failed before taking: what waits would wait forever
                    self._take(taken)
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
