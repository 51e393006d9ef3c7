"""Platform sessions do not reuse a connection the server may be closing: uvicorn closes
idle connections after 5 s, and a request sent on one just then fails with "server
disconnected" after maybe arriving (a Graph batch of 50 then counts as lost)."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from chatcart.kit.http import HttpLimits, create_session
from tests.helpers.servers import serve_app


def _ports_app(ports: list[int]) -> Starlette:
    async def answer(request: Request) -> PlainTextResponse:
        await request.body()
        assert request.client is not None
        ports.append(request.client.port)  # one client port per connection
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", answer, methods=["POST"])])


async def test_a_connection_idle_past_the_keepalive_is_not_reused() -> None:
    ports: list[int] = []
    limits = HttpLimits(keepalive_seconds=0.5)
    async with serve_app(_ports_app(ports)) as host:
        session = create_session(f"http://{host}", limits=limits)
        try:
            for pause in (0.0, 0.1, 0.8):
                await asyncio.sleep(pause)
                async with session.post("", data=b"x") as response:
                    assert response.status == 200
        finally:
            await session.close()
    # Reused after 0.1 s idle; a new connection after 0.8 s (past the 0.5 s keep-alive).
    assert ports[0] == ports[1]
    assert ports[2] != ports[1]


def test_the_keepalive_stays_under_the_servers_wait() -> None:
    assert HttpLimits().keepalive_seconds < 5  # uvicorn's timeout_keep_alive, the shortest
