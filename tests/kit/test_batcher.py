"""Group commit: what is submitted while a flush waits for its connection goes with it."""

from __future__ import annotations

import asyncio

import pytest

from chatcart.kit.batcher import GroupCommitter, Take


async def test_items_submitted_while_the_flush_waits_for_its_connection_go_with_it() -> None:
    connection = asyncio.Lock()
    batches: list[list[int]] = []

    async def flush(take: Take[int]) -> None:
        async with connection:  # as SQLite's one connection, held by someone else
            batches.append(take())

    committer: GroupCommitter[int] = GroupCommitter(flush)
    await connection.acquire()
    first = asyncio.create_task(committer.submit([1]))
    await asyncio.sleep(0.01)  # the flush has started and waits for the connection
    later = [asyncio.create_task(committer.submit([n])) for n in (2, 3)]
    await asyncio.sleep(0.01)
    connection.release()
    await asyncio.gather(first, *later)
    assert batches == [[1, 2, 3]]

    # Idle: one submission is written at once, alone.
    await committer.submit([4])
    assert batches == [[1, 2, 3], [4]]
    await committer.close()


async def test_a_batch_is_capped_and_the_rest_goes_next() -> None:
    batches: list[list[int]] = []

    async def flush(take: Take[int]) -> None:
        batches.append(take())

    committer: GroupCommitter[int] = GroupCommitter(flush, max_batch=2)
    await asyncio.gather(*(committer.submit([n]) for n in range(5)))
    assert batches == [[0, 1], [2, 3], [4]]


async def test_a_flush_that_fails_fails_its_callers_only() -> None:
    calls = 0

    async def flush(take: Take[int]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database gone")  # before taking anything
        take()

    committer: GroupCommitter[int] = GroupCommitter(flush)
    with pytest.raises(ConnectionError):
        await committer.submit([1])
    await committer.submit([2])  # the next batch is written


async def test_a_flush_that_forgets_to_take_fails_instead_of_hanging() -> None:
    async def flush(take: Take[int]) -> None:
        return None

    committer: GroupCommitter[int] = GroupCommitter(flush)
    with pytest.raises(RuntimeError, match="without take"):
        await asyncio.wait_for(committer.submit([1]), timeout=2)
