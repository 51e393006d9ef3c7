"""The workspace's configuration revision (bumped by triggers, whoever writes) and the
process cache keyed on it, on whichever database this run uses."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from chatcart.catalog import service as catalog
from chatcart.flows import service as flows
from chatcart.kit import config_cache
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import Workspace
from chatcart.models.catalog import ProductVariant
from chatcart.runtime import Runtime
from chatcart.shop import service as shop_service
from tests.catalog.helpers import save, tee
from tests.flows.test_engine import Chat
from tests.helpers.factory import make_shop

FLOW = """\
id: hello
name: Hello
triggers: [{type: keyword, any_of: [chào]}]
start: hi
steps:
  hi: {type: send, text: "Chào bạn"}
"""


async def _rev(runtime: Runtime, workspace_id: int) -> int:
    async with runtime.sessions() as session:
        rev = await session.scalar(select(Workspace.config_rev).where(Workspace.id == workspace_id))
        assert rev is not None
        return rev


async def test_flows_shop_settings_and_products_move_the_revision_stock_does_not(
    runtime: Runtime,
) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    ws = shop.workspace_id
    revs = [await _rev(runtime, ws)]

    async with transaction(runtime.sessions) as session:
        await flows.save(session, runtime.secrets, ws, FLOW, publish=True)
    revs.append(await _rev(runtime, ws))
    async with transaction(runtime.sessions) as session:
        await flows.archive(session, ws, "hello")
    revs.append(await _rev(runtime, ws))
    async with transaction(runtime.sessions) as session:
        await shop_service.save_settings(session, ws, public_url="https://shop.example")
    revs.append(await _rev(runtime, ws))
    product = await save(runtime, ws, tee())
    revs.append(await _rev(runtime, ws))
    assert revs == sorted(set(revs)), f"each change moves the revision: {revs}"

    # Selling changes stock (product rows and variants), not whether there are products.
    async with transaction(runtime.sessions) as session:
        await session.execute(update(ProductVariant).values(stock=ProductVariant.stock - 1))
        await catalog.set_status(session, ws, product.id, "draft")
    assert await _rev(runtime, ws) == revs[-1]

    async with transaction(runtime.sessions) as session:
        await catalog.delete_product(session, ws, product.id)
    assert await _rev(runtime, ws) > revs[-1]
    assert await _rev(runtime, other.workspace_id) == 0  # another shop is untouched


async def test_a_noted_session_reads_once_per_revision(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    ws = shop.workspace_id
    created = utcnow()
    loads: list[int] = []

    async def load() -> int:
        loads.append(1)
        return len(loads)

    async with runtime.sessions() as session:
        # Without a noted stamp, every call reads.
        assert await config_cache.cached(session, ws, "k", load) == 1
        assert await config_cache.cached(session, ws, "k", load) == 2
    async with runtime.sessions() as session:
        config_cache.note(session, ws, (created, 7))
        assert await config_cache.cached(session, ws, "k", load) == 3
    async with runtime.sessions() as session:  # another transaction, same revision
        config_cache.note(session, ws, (created, 7))
        assert await config_cache.cached(session, ws, "k", load) == 3
        assert await config_cache.cached(session, ws, "other key", load) == 4
    async with runtime.sessions() as session:  # the revision moved
        config_cache.note(session, ws, (created, 8))
        assert await config_cache.cached(session, ws, "k", load) == 5
    async with runtime.sessions() as session:  # same id and revision, another database
        config_cache.note(session, ws, (created + timedelta(microseconds=1), 8))
        assert await config_cache.cached(session, ws, "k", load) == 6


async def test_the_bot_answers_with_a_flow_another_process_published(runtime: Runtime) -> None:
    """The worker has answered (and cached the workspace's configuration) before the flow
    is published by another process, as `chatcart flows publish` would."""
    shop = await make_shop(runtime)
    chat = Chat(runtime, shop)
    [greeting] = await chat.say("chào shop")
    assert greeting != "Chào bạn"
    cli = Runtime.open(runtime.settings)
    try:
        async with transaction(cli.sessions) as session:
            await flows.save(session, cli.secrets, shop.workspace_id, FLOW, publish=True)
    finally:
        await cli.close()
    assert await chat.say("chào shop") == ["Chào bạn"]
