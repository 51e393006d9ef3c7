"""Fixtures for the Graph sandbox: a state with one Page and one IG account, an httpx
client on the ASGI app, and a real webhook receiver served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatcart.sandbox.graph import GraphState, create_graph_app
from tests.helpers.servers import free_port
from tests.sandbox.helpers import (
    IG,
    IG_TOKEN,
    IGSID,
    NOW,
    PAGE,
    PSID,
    SECRET,
    TOKEN,
    Received,
    Receiver,
)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    box = Receiver(url=f"http://127.0.0.1:{port}/webhook")

    async def hook(request: Request) -> Response:
        box.requests.append(Received(dict(request.headers), await request.body()))
        return Response("EVENT_RECEIVED", status_code=box.status)

    app = Starlette(routes=[Route("/webhook", hook, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield box
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


@pytest.fixture
def state() -> GraphState:
    graph = GraphState()
    graph.clock.set(NOW)
    graph.add_page(PAGE, TOKEN, SECRET, "http://127.0.0.1:9/unused", name="Shop Áo Thun")
    graph.add_user(PAGE, PSID, first_name="Lan", last_name="Nguyễn", last_interaction_at=NOW)
    graph.add_page(IG, IG_TOKEN, SECRET, "http://127.0.0.1:9/unused", kind="instagram")
    graph.add_user(IG, IGSID, username="lan.ng", first_name="Lan", last_interaction_at=NOW)
    return graph


@pytest.fixture
def hooked(state: GraphState, receiver: Receiver) -> GraphState:
    """The state with both accounts' webhooks pointed at the receiver."""
    for account in state.accounts.values():
        account.callback_url = receiver.url
    return state


@pytest.fixture
async def client(state: GraphState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_graph_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as http:
        yield http
