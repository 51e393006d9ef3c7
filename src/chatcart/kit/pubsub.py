"""Live events and wake-ups: in-process for the embedded shape, Redis pub/sub when scaled.

Events are hints published after commit; the database stays the source of truth, so a lost
event only delays something until the next poll or reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from chatcart.kit import jsonx

Events = asyncio.Queue[dict[str, Any]]


class Bus(Protocol):
    async def publish(self, topic: str, data: dict[str, Any]) -> None: ...

    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Events]: ...

    async def close(self) -> None: ...


_QUEUE_SIZE = 1000


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        message = {"topic": topic, **data}
        for queue in list(self._subscribers.get(topic, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(message)

    @asynccontextmanager
    async def _subscribe(
        self, topics: tuple[str, ...]
    ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        for topic in topics:
            self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            for topic in topics:
                self._subscribers[topic].discard(queue)
                if not self._subscribers[topic]:
                    del self._subscribers[topic]

    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Events]:
        return self._subscribe(topics)

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBus:
    """Fan-out across processes. Each subscription gets its own pub/sub connection.

    Closing the bus closes every subscription it still has, whatever its subscriber is doing:
    at shutdown uvicorn cancels streaming requests without waiting for them, so a
    subscriber's own cleanup may run after the bus is gone, or never. Once closed, the bus
    opens no connection again (a late publish is dropped, a late subscriber hears nothing),
    so nothing is left open for the garbage collector to find.
    """

    def __init__(self, url: str, prefix: str = "chatcart:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix
        self._open: dict[Any, asyncio.Task[None]] = {}  # pub/sub connection -> its pump
        self._closing: set[asyncio.Future[None]] = set()  # closes under way, awaited by close()
        self._closed = False

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        if self._closed:
            return
        await self._redis.publish(self._prefix + topic, jsonx.dumps({"topic": topic, **data}))

    @asynccontextmanager
    async def _subscribe(
        self, topics: tuple[str, ...]
    ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        if self._closed:
            yield queue
            return
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)

        async def pump() -> None:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    with contextlib.suppress(asyncio.QueueFull, ValueError):
                        queue.put_nowait(jsonx.loads(raw["data"]))

        try:
            await pubsub.subscribe(*(self._prefix + t for t in topics))
            self._open[pubsub] = asyncio.create_task(pump())
        except BaseException:
            await self._close_connection(pubsub)
            raise
        try:
            yield queue
        finally:
            pump_task = self._open.pop(pubsub, None)
            if pump_task is not None:  # else the bus's close() has released it already
                # No UNSUBSCRIBE round trip: closing the connection ends its subscriptions.
                pump_task.cancel()
                try:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pump_task
                finally:
                    await self._close_connection(pubsub)

    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Events]:
        return self._subscribe(topics)

    async def close(self) -> None:
        self._closed = True
        open_now, self._open = self._open, {}
        for pubsub, pump_task in open_now.items():
            pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump_task
            await self._close_connection(pubsub)
        if self._closing:  # subscribers' own closes, started before this one
            await asyncio.gather(*self._closing, return_exceptions=True)
        await self._redis.aclose()

    async def _close_connection(self, pubsub: Any) -> None:
        """Close a pub/sub connection even when the caller is being cancelled: the close goes
        on as its own task (which close() waits for), and the cancellation is re-raised."""
        closing = asyncio.ensure_future(pubsub.aclose())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        with contextlib.suppress(Exception):  # a broken connection is closed as far as it can be
            await asyncio.shield(closing)


def create_bus(redis_url: str | None, prefix: str = "chatcart:") -> Bus:
    return RedisBus(redis_url, prefix) if redis_url else MemoryBus()
