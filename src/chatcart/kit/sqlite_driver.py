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
# How long a statement on the connection's thread waits for another process's write lock.
BUSY_TIMEOUT_MS = 30_000


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

# Set by `short_statements()`: statements inside an open transaction run on the event
# loop's thread, no trip at all.
_SHORT: ContextVar[bool] = ContextVar("chatcart_sqlite_short", default=False)


@contextmanager
def short_statements() -> Iterator[None]:
    """The statements run in this block (this task and the tasks it starts) are short:
    indexed, a bounded batch of rows. They run on the event loop's thread, BEGIN and COMMIT
    included: no queue put, thread wake-up and loop wake-up each (most of a short
    statement's CPU; on a busy machine, also a wait for the thread to be scheduled).
    The loop never waits for a lock: BEGIN IMMEDIATE is tried there without SQLite's busy
    handler, and only when another process holds the write lock does the statement go to
    the connection's thread to wait for it; once the write lock is held, no statement
    waits for anyone. (A COMMIT that checkpoints the WAL writes the database file here.)"""
    token = _SHORT.set(True)
    try:
        yield
    finally:
        _SHORT.reset(token)


def _begin_here(conn: sqlite3.Connection, begin: str) -> bool:
    """BEGIN on this thread if the write lock is free now; False if another process has it
    (the connection's busy handler is off: see OneTripConnection.waits)."""
    try:
        conn.execute(begin)
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
            return False
        raise
    return True


def _run(
    conn: sqlite3.Connection,
    begin: str | None,
    operation: str,
    parameters: Any,
    many: bool,
    wait: bool = False,
) -> tuple[_Done, list[Any] | None]:
    """On the connection's thread: the whole statement (after the transaction's BEGIN,
    when it is the first; `wait`: with the busy handler turned back on first)."""
    if wait:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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
            adapted = cast(OneTripConnection, self._adapt_connection)
            begin = adapted.take_begin()
            done: _Done
            rows: list[Any] | None
            conn = connection._conn
            short = _SHORT.get()
            if short and begin is not None:
                if adapted.waits:
                    conn.execute("PRAGMA busy_timeout=0")
                    adapted.waits = False
                if _begin_here(conn, begin):
                    begin = None
            if short and begin is None and conn.in_transaction:
                done, rows = _run(conn, None, operation, parameters, many)
            else:
                wait = begin is not None and not adapted.waits
                adapted.waits = adapted.waits or wait
                done, rows = await connection._execute(
                    _run, conn, begin, operation, parameters, many, wait
                )
            self._cursor = cast(Any, done)  # read like a DBAPI cursor: description, rowcount
            return rows


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin", "waits")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None
        # Whether SQLite's busy handler is on (BUSY_TIMEOUT_MS, as connected). Only a
        # BEGIN IMMEDIATE can meet another process's lock: short statements begin with
        # it off (they go to the thread to wait instead), a BEGIN on the thread turns it
        # back on first; each switch only when the kind of BEGIN changes.
        self.waits = True

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
        if self._nothing_to_end():
            return
        if _SHORT.get():
            self._end_here(self._connection._conn.commit)
            return
        super().commit()

    def rollback(self) -> None:
        if self._nothing_to_end():
            return
        if _SHORT.get():  # a read's session ends with one
            self._end_here(self._connection._conn.rollback)
            return
        super().rollback()

    def _end_here(self, end: Any) -> None:
        try:
            end()
        except Exception as error:
            self._handle_exception(error)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
