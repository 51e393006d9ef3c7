"""A big contact import refreshes PostgreSQL's planner statistics at once, so a broadcast
started right after is not planned as if the tables were empty."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chatcart.contacts import imports
from chatcart.contacts import service as contacts
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop

CSV = "name,phone\n" + "".join(f"Khách {n},+8491{n:07d}\n" for n in range(3))


async def _analyzed(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            return -1
        return int(
            await session.scalar(
                text(
                    "SELECT analyze_count FROM pg_stat_user_tables "
                    "WHERE relname = 'contact' AND schemaname = current_schema()"
                )
            )
            or 0
        )


@pytest.mark.parametrize(("threshold", "analyzed"), [(3, True), (4, False)])
async def test_statistics_after_an_import_of_at_least_the_threshold(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, threshold: int, analyzed: bool
) -> None:
    monkeypatch.setattr(imports, "ANALYZE_AFTER_ROWS", threshold)
    shop = await make_shop(runtime)
    before = await _analyzed(runtime)
    async with transaction(runtime.sessions) as session:
        started = await contacts.start_import(session, shop.workspace_id, "khach.csv", "owner")
    await contacts.run_import(runtime.sessions, started.id, shop.workspace_id, CSV.encode())
    async with runtime.sessions() as session:
        status = await contacts.import_status(session, shop.workspace_id, started.id)
    assert status.status == "done" and status.rows_done == 3
    if before < 0:  # SQLite: nothing to refresh, and the import is done all the same
        return
    assert (await _analyzed(runtime) > before) is analyzed
