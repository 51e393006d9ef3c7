"""The broadcasts tests' world: a chatcart runtime with a shop, a Messenger Page and the
Graph sandbox serving it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatcart.runtime import Runtime
from tests.broadcasts.world import World, sandbox_world


@pytest.fixture
async def world(runtime: Runtime) -> AsyncIterator[World]:
    async with sandbox_world(runtime) as w:
        yield w
