"""SQLAlchemy's aiosqlite driver with one trip to the connection's thread per statement.

aiosqlite runs each sqlite3 call on the connection's own thread; SQLAlchemy's adaptor
makes a cursor, executes, fetches the rows and closes the cursor as four calls, so four
trips (a queue put, a thread wake-up, a loop wake-up through its self-pipe: ~100 us of
CPU each here) for what SQLite itself does in microseconds. A statement cost ~550 us
of CPU, and a claimed batch or an idle-time webhook runs dozens of them. Here the
cursor is made, executed, read and closed in one call on that thread; nothing else
changes (same thread, same sqlite3 connection, same transactions). Server-side
(streamed) results keep aiosqlite's cursor, fetched a chunk at a time.

Transactions: kit/db begins each with `defer_begin("BEGIN IMMEDIATE")`, which goes to
the thread with the transaction's first statement; a COMMIT or ROLLBACK with no
transaction open (nothing ran, or a statement already ended it) makes no trip.

Statements inline (`statements_inline()`): on the hot path (the worker's inbound batch, the
webhook door's group commit, the record of replies just sent), a transaction's statements
run on the event loop's thread itself. Through the thread, each statement sends the
transaction to the back of the loop's ready queue, behind every webhook being acknowledged
meanwhile, so a busy loop kept SQLite's one connection (which everything else waits for)
two to three times longer than the transaction's own work. BEGIN IMMEDIATE is
tried inline without waiting; when another process (the CLI) holds the write lock, it goes
to the thread, whose wait for the lock does not stop the loop. COMMIT stays on the thread
(a WAL checkpoint can run inside it).

Used by kit/db for every SQLite engine (`module=dbapi()`; the sqlite3 connection is
opened with check_same_thread=False so that whether a transaction is open can be read
from the event loop's thread, while no statement runs).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

Description = tuple[tuple[Any, ...], ...] | None


class _Done:
    """What a statement left behind, read after its trip (the sqlite3 cursor is closed)."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, description: Description, rowcount: int, lastrowid: int | None) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.arraysize = 1

    def close(self) -> None:
        """Closed already, on the connection's thread."""


_NOTHING = _Done(None, -1, None)

BUSY_TIMEOUT_MS = 30_000  # how long a statement waits for another process's write lock

_INLINE: ContextVar[bool] = ContextVar("sqlite_statements_inline", default=False)


@contextmanager
def statements_inline() -> Iterator[None]:
    """Within this block (and tasks started in it), SQLite statements run on the event
    loop's thread. For short transactions on the hot path only: a long statement here
    would stop the loop while it runs. No effect on PostgreSQL."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


def _begin_at_once(conn: sqlite3.Connection, begin: str) -> bool:
    """Begin on the calling thread if the write lock is free; False (nothing begun) when
    another process holds it."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        conn.execute(begin)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return False
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return True


def _run(
    conn: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, many: bool
) -> tuple[_Done, list[Any] | None]:
    """On the connection's thread: the whole statement (after the transaction's BEGIN,
    when it is the first)."""
    if begin is not None:
        conn.execute(begin)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return _Done(description, cursor.rowcount, cursor.lastrowid), rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False  # nothing to close: done on the thread

    def _make_new_cursor(self, connection: Any) -> Any:
        return _NOTHING

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        rows = await self._trip(operation, parameters, False)
        if rows is not None:
            self._rows = deque(rows)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._trip(operation, seq_of_parameters, True)

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> list[Any] | None:
        async with self._adapt_connection._execute_mutex:
            connection = self._connection
            begin = cast(OneTripConnection, self._adapt_connection).take_begin()
            done: _Done
            rows: list[Any] | None
            if _INLINE.get() and (begin is None or _begin_at_once(connection._conn, begin)):
                done, rows = _run(connection._conn, None, operation, parameters, many)
            else:
                done, rows = await connection._execute(
                    _run, connection._conn, begin, operation, parameters, many
                )
            self._cursor = cast(Any, done)  # read like a DBAPI cursor: description, rowcount
            return rows


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None

    def defer_begin(self, statement: str) -> None:
        """Begin a transaction with the next statement's trip."""
        self._begin = statement

    def take_begin(self) -> str | None:
        begin, self._begin = self._begin, None
        return begin

    def _nothing_to_end(self) -> bool:
        if self._begin is not None:  # begun, but no statement ran: nothing to end
            self._begin = None
            return True
        conn = self._connection._connection
        return conn is None or not conn.in_transaction

    def commit(self) -> None:
        if not self._nothing_to_end():
            super().commit()

    def rollback(self) -> None:
        if not self._nothing_to_end():
            super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
