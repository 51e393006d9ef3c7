"""Shared send-rate buckets (the `limits` library): in memory for the embedded shape, in
Redis when scaled, so every process sending through one account shares one bucket."""

from __future__ import annotations

import asyncio
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


class RateLimiter:
    def __init__(self, redis_url: str | None, prefix: str = "chatcart:") -> None:
        storage: Storage
        if redis_url:
            # redis-py's asyncio client: the one chatcart already depends on.
            storage = RedisStorage(
                "async+" + redis_url.removeprefix("async+"),
                implementation="redispy",
                key_prefix=prefix + "limits",
            )
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._items: dict[str, RateLimitItem] = {}
        # Once closed, no token: a task still running at shutdown must neither send nor open
        # a new Redis connection that nobody would close.
        self._closed = False

    def _item(self, limit: str) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        return item

    async def try_acquire(self, limit: str, *keys: str) -> bool:
        if self._closed:
            return False
        return bool(await self._limiter.hit(self._item(limit), *keys))

    async def try_acquire_spare(self, limit: str, *keys: str, keep: float = 0.5) -> bool:
        """A token only while more than `keep` of the window is still free: for what can be
        left out (typing indicators), so it never takes a token a message will need."""
        if self._closed:
            return False
        item = self._item(limit)
        stats = await self._limiter.get_window_stats(item, *keys)
        if stats.remaining <= item.amount * keep:
            return False
        return bool(await self._limiter.hit(item, *keys))

    async def acquire(self, limit: str, *keys: str, max_wait: float = 30.0) -> bool:
        """Wait for a token; False if none came within max_wait seconds."""
        deadline = time.monotonic() + max_wait
        item = self._item(limit)
        while not self._closed:
            if await self._limiter.hit(item, *keys):
                return True
            stats = await self._limiter.get_window_stats(item, *keys)
            pause = max(0.001, min(stats.reset_time - time.time(), 0.25))
            if time.monotonic() + pause > deadline:
                return False
            await asyncio.sleep(pause)
        return False

    async def close(self) -> None:
        self._closed = True
        # limits has no close of its own; its redis-py client is held by the bridge.
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()
