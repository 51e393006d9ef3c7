"""Widget spine bench (`python -m bench widget`): figures as ratios against a bare
baseline measured in the same run.

Widget spine: a visitor's message travels WebSocket -> inbound_event -> worker ->
conversation -> outbox -> dispatcher -> WebSocket. Baseline: a bare Starlette WebSocket
echo on the same machine, same client, same message count. Run with --postgres to use
the scaled shape (PostgreSQL + Redis) instead of embedded SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from chatcart import migrate
from chatcart.config import Settings
from chatcart.kit.db import transaction
from chatcart.main import create_app
from chatcart.runtime import Runtime

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


async def _echo(ws: WebSocket) -> None:
    await ws.accept()
    with contextlib.suppress(WebSocketDisconnect):  # the client leaving ends the echo
        await _echo_frames(ws)


async def _echo_frames(ws: WebSocket) -> None:
    while True:
        frame = orjson.loads(await ws.receive_text())
        if frame["type"] == "hello":
            await ws.send_text('{"type":"welcome"}')
            await ws.send_text('{"type":"history","messages":[]}')
        else:
            await ws.send_text(orjson.dumps({"type": "message", "message": frame}).decode())


async def _serve(app: object, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # up to 10 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    return server, task


async def _visitor(url: str, messages: int, latencies: list[float]) -> None:
    async with websockets.connect(url) as ws:
        await ws.send('{"type":"hello"}')
        while orjson.loads(await ws.recv())["type"] != "history":
            pass
        for n in range(messages):
            started = time.perf_counter()
            await ws.send(
                orjson.dumps(
                    {"type": "message", "client_id": uuid.uuid4().hex, "text": f"xin chào {n}"}
                ).decode()
            )
            while orjson.loads(await ws.recv())["type"] != "message":
                pass
            latencies.append(time.perf_counter() - started)


async def _load(url: str, visitors: int, each: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_visitor(url, each, latencies) for _ in range(visitors)))
    return time.perf_counter() - started, latencies


def _q(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def main(postgres: bool, visitors: int, each: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if postgres:
            schema = f"bench_{secrets.token_hex(4)}"
            from sqlalchemy import text

            from chatcart.kit.db import create_engine

            engine = create_engine(PG_URL)
            async with engine.begin() as conn:
                await conn.execute(text(f"CREATE SCHEMA {schema}"))
            await engine.dispose()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(tmp),
            database_url=PG_URL if postgres else f"sqlite+aiosqlite:///{tmp}/bench.db",
            database_schema=schema,
            redis_url=REDIS_URL if postgres else None,
            secret_key="bench",  # noqa: S106 (throwaway database)
            worker_poll_seconds=1.0,
        )
        await asyncio.to_thread(migrate.upgrade, settings.database_url, schema=schema)
        runtime = Runtime.open(settings)
        from chatcart.channels import service as channels
        from chatcart.workspaces import service as workspaces
        from chatcart.workspaces.schemas import WorkspaceCreate

        async with transaction(runtime.sessions) as session:
            ws = await workspaces.create(session, WorkspaceCreate(name="Bench", slug="bench"))
            key = (await channels.create_webchat(session, runtime.secrets, ws.id, "w")).external_id
        await runtime.close()

        base_server, base_task = await _serve(
            Starlette(routes=[WebSocketRoute("/ws", _echo)]), 8791
        )
        app_server, app_task = await _serve(create_app(settings), 8792)
        runs: dict[str, tuple[float, list[float]]] = {}
        try:
            # Interleave the two, twice, so machine noise hits both alike; keep the best.
            for _ in range(2):
                for name, url in (
                    ("baseline", "ws://127.0.0.1:8791/ws"),
                    ("chatcart", f"ws://127.0.0.1:8792/widget/ws?key={key}"),
                ):
                    result = await _load(url, visitors, each)
                    if name not in runs or result[0] < runs[name][0]:
                        runs[name] = result
        finally:
            for server in (base_server, app_server):
                server.should_exit = True
            await asyncio.gather(base_task, app_task)
        if schema:
            engine = create_engine(PG_URL)
            async with engine.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            await engine.dispose()

    total = visitors * each
    base_time, base_lat = runs["baseline"]
    cc_time, cc_lat = runs["chatcart"]
    shape = "PostgreSQL + Redis" if postgres else "SQLite (embedded)"
    print(f"widget spine on {shape}: {visitors} visitors x {each} messages = {total} round trips")
    print(f"{'':24}{'baseline':>12}{'chatcart':>12}{'ratio':>10}")
    rows: list[tuple[str, float, float]] = [
        ("throughput msg/s", total / base_time, total / cc_time),
        ("latency p50 ms", _q(base_lat, 50) * 1000, _q(cc_lat, 50) * 1000),
        ("latency p95 ms", _q(base_lat, 95) * 1000, _q(cc_lat, 95) * 1000),
    ]
    for label, base, ours in rows:
        print(f"{label:24}{base:12.1f}{ours:12.1f}{ours / base:10.2f}x")


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench widget", description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="scaled shape (PostgreSQL+Redis)")
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10, help="per visitor")
    args = parser.parse_args(argv)
    asyncio.run(main(args.postgres, args.visitors, args.messages))


if __name__ == "__main__":
    run(sys.argv[1:])
