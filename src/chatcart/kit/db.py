"""Database engine and session factory for both shapes: SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

from chatcart.kit import jsonx, sqlite_driver
from chatcart.kit.clock import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns tz-aware UTC (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use chatcart.kit.clock")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    # SQLite: one function each way instead of ours chained to SQLAlchemy's (a format
    # string of seven fields; a regular expression): the same text, "YYYY-MM-DD
    # HH:MM:SS.ffffff" in UTC, so stored values and comparisons are unchanged. Every
    # claimed batch binds and reads thousands of these.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the database; use chatcart.kit.clock")
            utc = value if value.tzinfo is UTC else value.astimezone(UTC)
            return utc.replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | datetime | None) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            return as_utc(value)

        return process


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, schema: str | None = None, echo: bool = False) -> AsyncEngine:
    if is_sqlite_url(url):
        return _create_sqlite_engine(url, echo=echo)
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(
        url,
        echo=echo,
        json_serializer=jsonx.dumps,
        json_deserializer=jsonx.loads,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args=connect_args,
    )


def _create_sqlite_engine(url: str, *, echo: bool) -> AsyncEngine:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # One connection per process: SQLite has one writer, and every transaction here begins
    # IMMEDIATE, so a second connection could only wait for the lock inside SQLite's busy
    # handler, which sleeps in steps of up to 100 ms and wakes late. Waiting for the pooled
    # connection instead is an asyncio wait, served in order the moment it is free. Other
    # processes (the CLI) still meet busy_timeout.
    engine = create_async_engine(
        url,
        echo=echo,
        # orjson (kit/jsonx) for JSON columns: the content of every message and send.
        json_serializer=jsonx.dumps,
        json_deserializer=jsonx.loads,
        module=sqlite_driver.dbapi(),  # one trip to aiosqlite's thread per statement
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so every transaction starts IMMEDIATE:
        # a deferred transaction that later writes can fail with SQLITE_BUSY at once instead
        # of waiting for the writer, which the web and worker loops of one process would hit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={sqlite_driver.BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if isinstance(dbapi_connection, sqlite_driver.OneTripConnection):
            dbapi_connection.defer_begin("BEGIN IMMEDIATE")  # goes with the first statement
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work: commits on success, rolls back on error. Used at boundaries only."""
    async with sessions() as session, session.begin():
        yield session
