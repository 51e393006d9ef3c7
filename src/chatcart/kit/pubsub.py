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
    """Fan-out across processes. Each subscription gets its own pub/sub connection."""

    def __init__(self, url: str, prefix: str = "chatcart:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix
        self._open: set[Any] = set()  # live pub/sub connections, closed with the bus

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + topic, jsonx.dumps({"topic": topic, **data}))

    @asynccontextmanager
    async def _subscribe(
        self, topics: tuple[str, ...]
    ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._open.add(pubsub)
        try:
            await pubsub.subscribe(*(self._prefix + t for t in topics))
        except BaseException:
            await self._release(pubsub)
            raise

        async def pump() -> None:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    with contextlib.suppress(asyncio.QueueFull, ValueError):
                        queue.put_nowait(jsonx.loads(raw["data"]))

        task = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
            await self._release(pubsub)

    async def _release(self, pubsub: Any) -> None:
        # Closed on its own (not with unsubscribe): a failed unsubscribe must not leave the
        # connection open.
        self._open.discard(pubsub)
        with contextlib.suppress(Exception):
            await pubsub.aclose()

    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Events]:
        return self._subscribe(topics)

    async def close(self) -> None:
        for pubsub in list(self._open):  # subscriptions still open when the process stops
            await self._release(pubsub)
        await self._redis.aclose()


def create_bus(redis_url: str | None, prefix: str = "chatcart:") -> Bus:
    return RedisBus(redis_url, prefix) if redis_url else MemoryBus()
