"""The models and the migrations agree, on whichever database this run uses."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from chatcart import migrate
from chatcart.models import Base
from chatcart.models.base import managed
from chatcart.runtime import Runtime


async def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "target_metadata": Base.metadata,
                "include_name": managed,
            },
        )
        return list(compare_metadata(context, Base.metadata))

    async with runtime.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == [], f"models and migrations differ: {differences}"


async def test_database_is_at_head(runtime: Runtime) -> None:
    assert await migrate.current_revision(runtime.engine) == migrate.head_revision(
        runtime.settings.database_url
    )


async def test_every_constraint_is_named_by_the_convention(runtime: Runtime) -> None:
    def names(connection: Any) -> list[tuple[str, str | None]]:
        inspector = inspect(connection)
        found = []
        for table in Base.metadata.tables:
            for fk in inspector.get_foreign_keys(table):
                found.append((table, fk.get("name")))
            for uq in inspector.get_unique_constraints(table):
                found.append((table, uq.get("name")))
        return found

    async with runtime.engine.connect() as conn:
        constraints = await conn.run_sync(names)
    assert constraints
    unnamed = [(table, name) for table, name in constraints if not name]
    assert not unnamed or runtime.engine.dialect.name == "sqlite"
    assert all(name.startswith(("fk_", "uq_")) for _, name in constraints if name)
