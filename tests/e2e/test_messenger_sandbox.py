"""Messenger end to end against the strict Graph sandbox: signed webhooks in, replies out
through policy with the right messaging_type, and Meta's refusals recorded where a seller
sees them."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chatcart.channels import service as channels
from chatcart.kit.db import transaction
from chatcart.models import ChannelAccount, Contact, ContactIdentity, OutboundMessage
from chatcart.runtime import Runtime
from chatcart.sandbox.graph.app import create_graph_app
from chatcart.sandbox.graph.state import GraphState
from tests.helpers.admin import login
from tests.helpers.factory import Shop, make_shop
from tests.helpers.servers import free_port, live_server, serve_app

PAGE = "100200300400500"
TOKEN = "EAA-demo-page-token"
SECRET = "demo-app-secret"


@dataclass
class World:
    graph: GraphState
    shop: Shop
    account_id: int
    base: str

    def messages_to(self, psid: str) -> list[Any]:
        """Send API calls carrying a message (sender actions left out)."""
        return [r for r in self.graph.sends(PAGE, psid) if r.message is not None]

    async def sent_to(self, psid: str, n: int, timeout: float = 15.0) -> list[Any]:
        for _ in range(int(timeout / 0.05)):
            records = self.messages_to(psid)
            if len(records) >= n:
                return records
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(self.messages_to(psid))} sends to {psid}, wanted {n}")


@pytest.fixture
async def world(runtime: Runtime) -> AsyncIterator[World]:
    graph = GraphState()
    graph.config.auto_echo = graph.config.auto_delivery = graph.config.auto_read = True
    shop = await make_shop(runtime)
    async with serve_app(create_graph_app(graph)) as graph_host:
        settings = runtime.settings.model_copy(
            update={
                "graph_api_url": f"http://{graph_host}",
                "redis_url": runtime.settings.redis_url,
            }
        )
        async with transaction(runtime.sessions) as session:
            account = await channels.connect_meta(
                session,
                runtime.secrets,
                workspace_id=shop.workspace_id,
                kind="messenger",
                name="Shop Áo Thun",
                external_id=PAGE,
                page_token=TOKEN,
                app_secret=SECRET,
            )
        port = free_port()
        graph.add_page(
            PAGE,
            TOKEN,
            SECRET,
            f"http://127.0.0.1:{port}/webhooks/messenger/{account.id}",
            name="Shop Áo Thun",
            granted_profile_fields=("first_name", "last_name", "profile_pic"),
        )
        async with live_server(settings, port=port) as host:
            yield World(graph, shop, account.id, f"http://{host}")


async def test_a_message_gets_a_reply_by_name_with_the_right_messaging_type(
    runtime: Runtime, world: World
) -> None:
    world.graph.add_user(PAGE, "psid-an", first_name="An", last_name="Nguyễn")
    emission = await world.graph.user_says(PAGE, "psid-an", "Xin chào shop")
    assert emission.statuses == [200]
    (reply,) = await world.sent_to("psid-an", 1)
    assert reply.accepted, reply.error
    assert reply.request["messaging_type"] == "RESPONSE"
    assert "tag" not in reply.request
    assert reply.request["message"]["text"].startswith("Xin chào An!")
    assert [q["title"] for q in reply.request["message"]["quick_replies"]] == [
        "Xem sản phẩm",
        "Gặp nhân viên",
    ]
    async with runtime.sessions() as session:
        contact = await session.scalar(select(Contact))
        assert contact is not None
        assert (contact.name, contact.first_name) == ("An Nguyễn", "An")
    # The sandbox echoes our send, then reports delivery and read: no echo loop, and the
    # message's status follows the receipts.
    for _ in range(100):
        async with runtime.sessions() as session:
            status = await session.scalar(select(OutboundMessage.status))
        if status == "read":
            break
        await asyncio.sleep(0.05)
    assert status == "read"
    assert len(world.messages_to("psid-an")) == 1
    # Seen and typing before the reply, typing off after it, as Meta's Send API takes them.
    calls = world.graph.sends(PAGE, "psid-an")
    assert all(c.accepted for c in calls)
    actions = [(c.seq, c.sender_action) for c in calls if c.sender_action]
    before = {a for seq, a in actions if seq < reply.seq}
    after = {a for seq, a in actions if seq > reply.seq}
    assert before == {"mark_seen", "typing_on"}
    assert after == {"typing_off"}
    for call in calls:
        if call.sender_action:
            assert call.request == {
                "recipient": {"id": "psid-an"},
                "sender_action": call.sender_action,
            }
            assert call.response == {"recipient_id": "psid-an"}


async def test_a_ref_link_greets_and_records_where_the_person_came_from(
    runtime: Runtime, world: World
) -> None:
    await world.graph.user_opens_ref_link(PAGE, "psid-tiktok", "tiktok-tool")
    (reply,) = await world.sent_to("psid-tiktok", 1)
    assert reply.accepted, reply.error
    async with runtime.sessions() as session:
        contact = await session.scalar(select(Contact))
    assert contact is not None
    assert contact.source["ref"] == "tiktok-tool"
    assert contact.source["channel"] == "messenger"


async def test_meta_refusals_are_recorded_and_shown_to_the_seller(
    runtime: Runtime, world: World
) -> None:
    world.graph.add_user(PAGE, "psid-gone", first_name="Bình")
    world.graph.set_unavailable(PAGE, "psid-gone")
    await world.graph.user_says(PAGE, "psid-gone", "còn hàng không?")
    (refused,) = await world.sent_to("psid-gone", 1)
    assert not refused.accepted
    for _ in range(100):
        async with runtime.sessions() as session:
            row = await session.scalar(select(OutboundMessage))
            identity = await session.scalar(select(ContactIdentity))
        if row is not None and row.status == "failed":
            break
        await asyncio.sleep(0.05)
    assert row is not None and identity is not None
    assert row.status == "failed"
    assert row.error_code is not None and row.error_code.startswith("551")
    assert identity.reachable is False
    async with httpx.AsyncClient(base_url=world.base) as client:
        await login(client, world.shop.email, world.shop.password)
        page = await client.get(f"/admin/conversations/{row.conversation_id}")
    text = html.unescape(page.text)
    assert "551" in text
    assert row.error_message is not None and row.error_message in text


async def test_a_revoked_token_flags_the_page_for_reconnection(
    runtime: Runtime, world: World
) -> None:
    world.graph.revoke_token(PAGE)
    await world.graph.user_says(PAGE, "psid-x", "alo")
    for _ in range(200):
        async with runtime.sessions() as session:
            account = await session.get(ChannelAccount, world.account_id)
        if account is not None and account.status == "reauth_required":
            break
        await asyncio.sleep(0.05)
    assert account is not None and account.status == "reauth_required"
    async with runtime.sessions() as session:
        row = await session.scalar(select(OutboundMessage))
    assert row is not None and row.status == "queued"  # waits for the reconnect, not lost
    async with httpx.AsyncClient(base_url=world.base) as client:
        await login(client, world.shop.email, world.shop.password)
        page = await client.get("/admin/channels")
    assert "Reconnect needed" in page.text or "Cần kết nối lại" in page.text
