"""The live-event bus: in memory, or Redis pub/sub across processes. A closed Redis bus leaves
no connection open, whatever its subscribers were doing (uvicorn cancels streaming requests at
shutdown without waiting for them)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from chatcart.kit.pubsub import MemoryBus, RedisBus
from chatcart.kit.ratelimit import RateLimiter

REDIS_URL = os.environ.get("CHATCART_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="Redis runs with the scaled shape")


def _connections(bus: RedisBus) -> list[Any]:
    pool = bus._redis.connection_pool
    return [*pool._available_connections, *pool._in_use_connections]


async def _heard(bus: MemoryBus | RedisBus, topic: str) -> dict[str, Any]:
    async with bus.subscribe(topic) as queue:
        for _ in range(50):  # Redis: the subscription is live once a publish gets through
            await bus.publish(topic, {"n": 1})
            try:
                return await asyncio.wait_for(queue.get(), 0.1)
            except TimeoutError:
                continue
    raise AssertionError("nothing heard")


async def test_memory_bus_delivers_to_subscribers_of_the_topic_only() -> None:
    bus = MemoryBus()
    async with bus.subscribe("a") as a, bus.subscribe("b") as b:
        await bus.publish("a", {"x": 1})
        assert a.get_nowait() == {"topic": "a", "x": 1}
        assert b.empty()
    await bus.close()


@needs_redis
async def test_redis_bus_delivers_with_its_prefix() -> None:
    assert REDIS_URL
    bus = RedisBus(REDIS_URL, prefix="chatcart-test-bus:")
    try:
        assert await _heard(bus, "t") == {"topic": "t", "n": 1}
    finally:
        await bus.close()
    assert not any(c.is_connected for c in _connections(bus))


@needs_redis
async def test_closing_the_bus_closes_a_subscription_its_subscriber_never_leaves() -> None:
    assert REDIS_URL
    bus = RedisBus(REDIS_URL, prefix="chatcart-test-bus:")
    inside = asyncio.Event()

    async def subscriber() -> None:
        async with bus.subscribe("stream") as queue:
            inside.set()
            await queue.get()  # a live stream: waits until it is cancelled

    task = asyncio.create_task(subscriber())
    await asyncio.wait_for(inside.wait(), 5)
    await bus.close()  # the app's shutdown, before uvicorn's cancelled request has finished
    assert not any(c.is_connected for c in _connections(bus))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Nothing reopened by the subscriber's own cleanup, nor by late callers.
    await bus.publish("stream", {"late": True})
    async with bus.subscribe("late") as queue:
        assert queue.empty()
    assert not any(c.is_connected for c in _connections(bus))


@needs_redis
async def test_a_subscriber_cancelled_twice_still_closes_its_connection() -> None:
    assert REDIS_URL
    bus = RedisBus(REDIS_URL, prefix="chatcart-test-bus:")
    inside = asyncio.Event()

    async def subscriber() -> None:
        async with bus.subscribe("stream") as queue:
            inside.set()
            await queue.get()

    task = asyncio.create_task(subscriber())
    await asyncio.wait_for(inside.wait(), 5)
    task.cancel()
    await asyncio.sleep(0)  # its cleanup has started...
    task.cancel()  # ...and is cancelled again
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if not any(c.is_connected for c in _connections(bus)):
            break
        await asyncio.sleep(0.01)
    assert not any(c.is_connected for c in _connections(bus))
    await bus.close()


@pytest.mark.parametrize("redis", [False, pytest.param(True, marks=needs_redis)])
async def test_a_closed_rate_limiter_gives_no_token_and_opens_nothing(redis: bool) -> None:
    limiter = RateLimiter(REDIS_URL if redis else None, prefix="chatcart-test-bus:")
    assert await limiter.try_acquire("5/second", "k")
    await limiter.close()
    assert not await limiter.try_acquire("5/second", "k")
    assert not await limiter.try_acquire_spare("5/second", "k")
    assert not await limiter.acquire("5/second", "k", max_wait=1)
