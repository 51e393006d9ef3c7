"""/healthz says the process lives; /readyz says the database is reachable and migrated."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from chatcart import migrate
from chatcart.runtime import Runtime
from tests.helpers.servers import live_server


async def test_health_and_readiness(runtime: Runtime) -> None:
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        head = migrate.head_revision(runtime.settings.database_url)
        assert ready.json()["migrations"]["current"] == head


async def test_readyz_is_503_when_migrations_are_behind(runtime: Runtime) -> None:
    head = migrate.head_revision(runtime.settings.database_url)
    async with runtime.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    try:
        async with (
            live_server(runtime.settings, run_worker=False) as host,
            httpx.AsyncClient(base_url=f"http://{host}") as client,
        ):
            ready = await client.get("/readyz")
            assert (await client.get("/healthz")).status_code == 200
    finally:
        async with runtime.engine.begin() as conn:
            await conn.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )
    assert ready.status_code == 503
    assert ready.json()["migrations"] == {"current": "0000", "head": head}


async def test_readyz_is_503_when_the_database_is_unreachable(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={
            "database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
            "database_schema": None,
        }
    )
    async with (
        live_server(settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert "unreachable" in ready.json()["database"]


async def test_unknown_pages_are_404(runtime: Runtime) -> None:
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        html = await client.get("/nope", headers={"accept": "text/html"})
        api = await client.get("/api/v1/nope")
    assert html.status_code == 404 and "<html" in html.text
    assert api.status_code == 404
