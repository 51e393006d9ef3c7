"""kit/sqlite_driver: one trip to aiosqlite's thread per statement, the transaction's
BEGIN with its first statement, no trip to end a transaction that is not open; results,
row counts, keys, errors and streamed results as before."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chatcart.kit.db import create_engine, session_factory, transaction
from chatcart.kit.sqlite_driver import statements_inline
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's driver")


@pytest.fixture
async def engine(tmp_path: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/driver.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls made on aiosqlite connections' threads."""
    made: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object) -> object:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


async def test_a_statement_is_one_trip_and_begin_goes_with_the_first(
    engine: AsyncEngine, trips: list[str]
) -> None:
    sessions = session_factory(engine)
    async with sessions() as session:  # warm the pool: the connect-time PRAGMAs
        await session.execute(text("SELECT 1"))
    trips.clear()
    async with transaction(sessions) as session:
        await session.execute(text("INSERT INTO t (v) VALUES ('a')"))
        rows = (await session.execute(text("SELECT id, v FROM t"))).all()
    assert [tuple(r) for r in rows] == [(1, "a")]
    assert trips == ["_run", "_run", "commit"]  # BEGIN rode with the INSERT
    trips.clear()
    async with transaction(sessions):
        pass  # begun, nothing ran: nothing to end
    async with sessions() as session:
        await session.execute(text("SELECT v FROM t"))
    assert trips == ["_run", "rollback"]  # a read: its transaction is rolled back


async def test_counts_keys_errors_and_rollbacks_are_as_before(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        result = await session.execute(
            text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x"}, {"v": "y"}, {"v": "z"}]
        )
        assert result.rowcount == 3
        inserted = await session.execute(text("INSERT INTO t (v) VALUES ('w')"))
        assert inserted.lastrowid == 4
        updated = await session.execute(text("UPDATE t SET v = v || '!' WHERE id > 2"))
        assert updated.rowcount == 2
    async with transaction(sessions) as session:
        await session.execute(text("INSERT INTO t (v) VALUES ('q')"))
        async with session.begin_nested():
            with pytest.raises(IntegrityError):
                await session.execute(text("INSERT INTO t (v) VALUES ('x')"))  # taken
    with pytest.raises(IntegrityError):
        await _insert_taken(sessions)
    async with sessions() as session:
        values = (await session.scalars(text("SELECT v FROM t ORDER BY id"))).all()
        # 'q' kept (its savepoint was rolled back, not the transaction); 'r' rolled back
        assert values == ["x", "y", "z!", "w!", "q"]
        streamed = [row.v async for row in await session.stream(text("SELECT v FROM t"))]
    assert streamed == ["x", "y", "z!", "w!", "q"]


async def _insert_taken(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        await session.execute(text("INSERT INTO t (v) VALUES ('r')"))
        await session.execute(text("INSERT INTO t (v) VALUES ('x')"))


async def test_statements_inline_make_no_trip_but_the_commit(
    engine: AsyncEngine, trips: list[str]
) -> None:
    sessions = session_factory(engine)
    async with sessions() as session:  # warm the pool
        await session.execute(text("SELECT 1"))
    trips.clear()
    with statements_inline():
        async with transaction(sessions) as session:
            await session.execute(text("INSERT INTO t (v) VALUES ('a')"))
            rows = (await session.execute(text("SELECT id, v FROM t"))).all()
        with pytest.raises(IntegrityError):  # errors are the same
            async with transaction(sessions) as session:
                await session.execute(text("INSERT INTO t (v) VALUES ('a')"))
    assert [tuple(r) for r in rows] == [(1, "a")]
    assert trips == ["commit", "rollback"]
    async with sessions() as session:  # outside the block: through the thread again
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    assert trips == ["commit", "rollback", "_run", "rollback"]


async def test_inline_begin_does_not_stop_the_loop_while_another_process_writes(
    engine: AsyncEngine, tmp_path: pytest.TempPathFactory
) -> None:
    """Another process (the CLI) holds the write lock: the inline transaction waits for it
    on the connection's thread, and the loop goes on meanwhile."""
    sessions = session_factory(engine)
    other = sqlite3.connect(f"{tmp_path}/driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (v) VALUES ('cli')")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        with statements_inline():
            async with transaction(sessions) as session:
                await session.execute(text("INSERT INTO t (v) VALUES ('worker')"))

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()
    assert ticks >= 10  # the loop was not stopped by the wait for the lock
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writing, timeout=10)
    ticking.cancel()
    async with sessions() as session:
        values = (await session.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert values == ["cli", "worker"]
