"""kit/ids: keys taken before the INSERT, one by one and many at once, never twice."""

from __future__ import annotations

from sqlalchemy import select

from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.ids import IdBlocks
from chatcart.models import Workspace
from chatcart.runtime import Runtime


async def test_keys_taken_one_and_many_at_a_time_are_fresh_and_increasing(
    runtime: Runtime,
) -> None:
    async with transaction(runtime.sessions) as session:
        blocks = IdBlocks(session, 4)
        one = await blocks.take(Workspace)
        many = await blocks.take_many(Workspace, 5)
        after = await blocks.take(Workspace)
        assert await blocks.take_many(Workspace, 0) == []
        keys = [one, *many, after]
        assert keys == sorted(keys) and len(set(keys)) == 7
        for n, key in enumerate(keys):
            session.add(Workspace(id=key, name=f"W{n}", slug=f"w-ids-{n}", created_at=utcnow()))
    async with runtime.sessions() as session:
        stored = (await session.scalars(select(Workspace.id).order_by(Workspace.id))).all()
    assert list(stored) == keys
