"""Shared send-rate buckets: moving windows kept in this process for the embedded shape, in
Redis (the `limits` library) when scaled, so every process sending through one account
shares one bucket."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter


class _Windows:
    """Moving windows in memory: per bucket, the times of the hits still inside it, oldest
    first (a hit of cost n is n entries). What `limits`' MemoryStorage does, without its
    locks, its expiry task and its trips to a thread pool for every key on every hit."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def _live(self, item: RateLimitItem, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        edge = now - item.get_expiry()
        while hits and hits[0] <= edge:
            hits.popleft()
        return hits

    def hit(self, item: RateLimitItem, key: str, cost: int = 1) -> bool:
        now = time.time()
        hits = self._live(item, key, now)
        if len(hits) + cost > item.amount:
            return False
        hits.extend([now] * cost)
        return True

    def stats(self, item: RateLimitItem, key: str) -> tuple[int, float]:
        """(tokens left, when the oldest hit leaves the window: epoch seconds)."""
        now = time.time()
        hits = self._live(item, key, now)
        reset = hits[0] + item.get_expiry() if hits else now
        return item.amount - len(hits), reset


class RateLimiter:
    def __init__(self, redis_url: str | None, prefix: str = "chatcart:") -> None:
        self._storage: RedisStorage | None = None
        self._limiter: MovingWindowRateLimiter | None = None
        self._windows: _Windows | None = None
        if redis_url:
            # redis-py's asyncio client: the one chatcart already depends on.
            self._storage = RedisStorage(
                "async+" + redis_url.removeprefix("async+"),
                implementation="redispy",
                key_prefix=prefix + "limits",
            )
            self._limiter = MovingWindowRateLimiter(self._storage)
        else:
            self._windows = _Windows()
        self._items: dict[str, RateLimitItem] = {}
        # Once closed, no token: a task still running at shutdown must neither send nor open
        # a new Redis connection that nobody would close.
        self._closed = False

    def _item(self, limit: str) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        return item

    async def _hit(self, item: RateLimitItem, keys: tuple[str, ...], cost: int = 1) -> bool:
        if self._windows is not None:
            return self._windows.hit(item, item.key_for(*keys), cost)
        assert self._limiter is not None
        return bool(await self._limiter.hit(item, *keys, cost=cost))

    async def _stats(self, item: RateLimitItem, keys: tuple[str, ...]) -> tuple[int, float]:
        """(tokens left in the window, when the window next frees one: epoch seconds)."""
        if self._windows is not None:
            return self._windows.stats(item, item.key_for(*keys))
        assert self._limiter is not None
        stats = await self._limiter.get_window_stats(item, *keys)
        return stats.remaining, stats.reset_time

    async def try_acquire(self, limit: str, *keys: str) -> bool:
        if self._closed:
            return False
        return await self._hit(self._item(limit), keys)

    async def try_acquire_spare(self, limit: str, *keys: str, keep: float = 0.8) -> bool:
        """A token only while more than `keep` of the window is still free: for what can be
        left out (typing indicators), so it never takes a token a message will need. A
        Page that is busy (a fifth of its window used) sends no typing dots: with half the
        window for them, a Page answering 200 people a second ran out of tokens for the
        answers, which then waited a second each."""
        if self._closed:
            return False
        item = self._item(limit)
        remaining, _ = await self._stats(item, keys)
        if remaining <= item.amount * keep:
            return False
        return await self._hit(item, keys)

    async def acquire(self, limit: str, *keys: str, max_wait: float = 30.0) -> bool:
        """Wait for a token; False if none came within max_wait seconds."""
        deadline = time.monotonic() + max_wait
        item = self._item(limit)
        while not self._closed:
            if await self._hit(item, keys):
                return True
            _, reset = await self._stats(item, keys)
            pause = max(0.001, min(reset - time.time(), 0.25))
            if time.monotonic() + pause > deadline:
                return False
            await asyncio.sleep(pause)
        return False

    async def acquire_up_to(
        self, limit: str, count: int, *keys: str, max_wait: float = 30.0
    ) -> int:
        """Take up to `count` tokens with one hit (a batch's sends through one account: one
        round trip to Redis, not one per send), waiting for at least one; returns how many
        were taken (0 if none came within max_wait seconds)."""
        deadline = time.monotonic() + max_wait
        item = self._item(limit)
        while count > 0 and not self._closed:
            remaining, reset = await self._stats(item, keys)
            take = min(count, remaining)
            if take > 0 and await self._hit(item, keys, cost=take):
                return take
            pause = max(0.001, min(reset - time.time(), 0.25))
            if time.monotonic() + pause > deadline:
                return 0
            await asyncio.sleep(pause)
        return 0

    async def close(self) -> None:
        self._closed = True
        # limits has no close of its own; its redis-py client is held by the bridge.
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()
