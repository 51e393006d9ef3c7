"""kit/sqlite_driver: one trip to aiosqlite's thread per statement, the transaction's
BEGIN with its first statement, no trip to end a transaction that is not open; results,
row counts, keys, errors and streamed results as before; short statements with no trip,
except to wait for another process's write lock."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chatcart.kit.db import create_engine, session_factory, short_statements, transaction
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's driver")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
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


async def test_short_statements_make_no_trip_and_behave_the_same(
    engine: AsyncEngine, trips: list[str]
) -> None:
    sessions = session_factory(engine)
    with short_statements():
        async with transaction(sessions) as session:
            result = await session.execute(
                text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x"}, {"v": "y"}]
            )
            assert result.rowcount == 2
            inserted = await session.execute(text("INSERT INTO t (v) VALUES ('w')"))
            assert inserted.lastrowid == 3
            async with session.begin_nested():
                with pytest.raises(IntegrityError):
                    await session.execute(text("INSERT INTO t (v) VALUES ('x')"))
        with pytest.raises(IntegrityError):
            await _insert_taken(sessions)  # 'r' rolled back with its transaction
        async with sessions() as session:
            values = (await session.scalars(text("SELECT v FROM t ORDER BY id"))).all()
    assert values == ["x", "y", "w"]
    assert trips == []  # not even the failed transaction's ROLLBACK, nor the read's
    async with sessions() as session:  # outside the block: trips again
        await session.execute(text("SELECT 1"))
    assert trips[-2:] == ["_run", "rollback"]


async def test_short_statements_wait_for_another_process_on_the_thread(
    engine: AsyncEngine, trips: list[str], tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    async with sessions() as session:  # warm the pool
        await session.execute(text("SELECT 1"))
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    other.execute("INSERT INTO t (v) VALUES ('theirs')")

    async def ours(value: str) -> None:
        with short_statements():
            async with transaction(sessions) as session:
                await session.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})

    waiting = asyncio.create_task(ours("ours"))
    for _ in range(20):  # the loop keeps running while our BEGIN waits on the thread
        await asyncio.sleep(0.01)
    assert not waiting.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(waiting, 10)
    assert trips[-1] == "_run"  # BEGIN and the INSERT went to the thread to wait
    trips.clear()
    await ours("again")  # the lock is free: on the loop's thread again
    assert trips == []
    # A transaction that is not short still waits for the lock (the busy handler is back
    # on for its BEGIN), instead of failing at once.
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def plain() -> None:
        async with transaction(sessions) as session:
            await session.execute(text("INSERT INTO t (v) VALUES ('plain')"))

    waiting = asyncio.create_task(plain())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(waiting, 10)
    async with sessions() as session:
        values = (await session.scalars(text("SELECT v FROM t ORDER BY id"))).all()
    assert values == ["theirs", "ours", "again", "plain"]
