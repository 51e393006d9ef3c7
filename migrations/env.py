"""Alembic environment: async engines, batch mode on SQLite (ALTER TABLE is limited there)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from chatcart.config import get_settings
from chatcart.kit.db import create_engine
from chatcart.models import Base
from chatcart.models.base import managed

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def _schema() -> str | None:
    if "database_url" in config.attributes:
        return config.attributes.get("database_schema")
    return get_settings().database_schema


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=managed,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url(), schema=_schema())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
