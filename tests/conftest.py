"""Test setup. The same suite runs on SQLite (default) and on PostgreSQL + Redis when
CHATCART_TEST_DATABASE_URL / CHATCART_TEST_REDIS_URL are set (`make test` does both).
A PostgreSQL run gets a fresh schema, migrated from zero, and drops it at the end."""

from __future__ import annotations

import asyncio
import io
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from chatcart import migrate
from chatcart.config import Settings
from chatcart.kit.db import create_engine
from chatcart.models import Base
from chatcart.runtime import Runtime

PG_URL = os.environ.get("CHATCART_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("CHATCART_TEST_REDIS_URL") or None


def pytest_report_header() -> str:
    return f"chatcart database: {'postgresql' if PG_URL else 'sqlite'}; redis: {REDIS_URL or 'no'}"


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    data_dir = tmp_path_factory.mktemp("var")
    schema = None
    if PG_URL:
        schema = f"test_{secrets.token_hex(6)}"
        asyncio.run(_pg(PG_URL, f"CREATE SCHEMA {schema}"))
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{data_dir / 'test.db'}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        database_schema=schema,
        redis_url=REDIS_URL,
        # Concurrent runs (CI beside a developer's run) share one Redis: keep apart.
        redis_prefix=f"chatcart-test-{secrets.token_hex(4)}:",
        data_dir=data_dir,
        secret_key="test-secret-key-" + secrets.token_hex(8),
        worker_poll_seconds=0.2,
        login_max_delay_seconds=0.4,
    )
    migrate.upgrade(settings.database_url, schema=schema)
    yield settings
    if schema:
        asyncio.run(_pg(PG_URL, f"DROP SCHEMA {schema} CASCADE"))


async def _pg(url: str, statement: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture(autouse=True)
async def _tasks_end(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Tasks a test leaves behind are cancelled here, again and again while they still run,
    and named if they will not end: pytest-asyncio cancels them once and then waits for ever,
    so one task that swallows a cancellation used to hang the whole run."""
    yield
    me = asyncio.current_task()
    left = {t for t in asyncio.all_tasks() if t is not me and not t.done()}
    for _ in range(40):  # ~10 s
        if not left:
            return
        for task in left:
            task.cancel()
        await asyncio.wait(left, timeout=0.25)
        left = {t for t in left if not t.done()}
    stacks = []
    for task in left:
        out = io.StringIO()
        task.print_stack(file=out)
        stacks.append(out.getvalue())
    pytest.fail(f"{request.node.nodeid} left tasks that do not end:\n" + "\n".join(stacks))


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings.model_copy()


async def _truncate(runtime: Runtime) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with runtime.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            quoted = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 (our names)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = Runtime.open(settings)
    await _truncate(rt)
    yield rt
    await rt.close()


@pytest.fixture
def data_dir(settings: Settings) -> Path:
    return settings.data_dir
