"""Fixtures for the Meta adapter tests: accounts, the recording Graph API, adapters (closed
after each test: warnings are errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from chatcart.channels.base import AccountRef
from chatcart.channels.instagram.adapter import InstagramAdapter
from chatcart.channels.messenger.adapter import MessengerAdapter
from tests.channels.meta.support import (
    IG_ID,
    IG_PAGE_ID,
    PAGE_ID,
    PAGE_TOKEN,
    VERSION,
    FakeGraph,
    serve,
)


@pytest.fixture
def page_account() -> AccountRef:
    return AccountRef(
        id=1, kind="messenger", external_id=PAGE_ID, credentials={"page_token": PAGE_TOKEN}
    )


@pytest.fixture
def ig_account() -> AccountRef:
    return AccountRef(
        id=2,
        kind="instagram",
        external_id=IG_ID,
        credentials={"page_token": PAGE_TOKEN},
        settings={"page_id": IG_PAGE_ID},
    )


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner, port = await serve(app)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def messenger(graph: FakeGraph) -> AsyncIterator[MessengerAdapter]:
    adapter = MessengerAdapter(graph.url, VERSION)
    try:
        yield adapter
    finally:
        await adapter.aclose()


@pytest.fixture
async def instagram(graph: FakeGraph) -> AsyncIterator[InstagramAdapter]:
    adapter = InstagramAdapter(graph.url, VERSION)
    try:
        yield adapter
    finally:
        await adapter.aclose()
