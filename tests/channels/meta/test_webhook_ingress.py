"""The Meta webhook door: verify -> record -> 200; everything refused gets its status and
loses nothing; a batch is processed whole; redeliveries are no-ops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from chatcart.channels import service as channels
from chatcart.channels.meta.signature import sign
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import (
    Conversation,
    InboundEvent,
    Message,
    OutboundMessage,
    WebhookDelivery,
)
from chatcart.runtime import Runtime
from tests.channels.meta.support import FakeGraph
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server

PAGE_ID = "104857392011234"
SECRET = "app-secret-for-tests"
VERIFY = "verify-me"


@dataclass
class Page:
    account_id: int
    client: httpx.AsyncClient
    url: str

    async def post(self, body: bytes, *, signature: str | None = "good") -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature == "good":
            headers["X-Hub-Signature-256"] = sign(SECRET, body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return await self.client.post(self.url, content=body, headers=headers)


def now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def message(psid: str, mid: str, text: str, ts: int | None = None) -> dict[str, Any]:
    ts = ts if ts is not None else now_ms()
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": ts,
        "message": {"mid": mid, "text": text},
    }


def envelope(*items: dict[str, Any], page_id: str = PAGE_ID) -> bytes:
    entry = {"id": page_id, "time": now_ms(), "messaging": list(items)}
    return orjson.dumps({"object": "page", "entry": [entry]})


@pytest.fixture
async def page(runtime: Runtime, graph: FakeGraph) -> AsyncIterator[Page]:
    shop = await make_shop(runtime)
    settings = runtime.settings.model_copy(update={"graph_api_url": graph.url})
    async with transaction(runtime.sessions) as session:
        account = await channels.connect_meta(
            session,
            runtime.secrets,
            workspace_id=shop.workspace_id,
            kind="messenger",
            name="Shop page",
            external_id=PAGE_ID,
            page_token="page-token",
            app_secret=SECRET,
            verify_token=VERIFY,
        )
    async with (
        live_server(settings) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        yield Page(account.id, client, f"/webhooks/messenger/{account.id}")


async def count(runtime: Runtime, model: type, *where: Any) -> int:
    async with runtime.sessions() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return int(await session.scalar(query) or 0)


async def wait_for(runtime: Runtime, model: type, n: int, *where: Any) -> None:
    for _ in range(300):
        if await count(runtime, model, *where) >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{model.__name__}: {await count(runtime, model, *where)} of {n}")


async def test_subscription_verification(page: Page) -> None:
    ok = await page.client.get(
        page.url,
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = await page.client.get(
        page.url,
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403
    unknown = await page.client.get(
        "/webhooks/messenger/999999",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
    )
    assert unknown.status_code == 404


async def test_signatures_are_checked_over_the_raw_bytes(runtime: Runtime, page: Page) -> None:
    body = envelope(message("psid-1", "m_1", "Áo thun còn size M không ạ?"))
    assert (await page.post(body, signature=None)).status_code == 401
    assert (await page.post(body, signature="sha256=" + "0" * 64)).status_code == 403
    assert (await page.post(body, signature="sha1=abc")).status_code == 403
    tampered = body.replace(b"size M", b"size L")
    good_for_original = sign(SECRET, body)
    assert (await page.post(tampered, signature=good_for_original)).status_code == 403
    assert await count(runtime, InboundEvent) == 0
    accepted = await page.post(body)
    assert (accepted.status_code, accepted.text) == (200, "EVENT_RECEIVED")
    assert await count(runtime, InboundEvent) == 1


async def test_bad_bodies_get_their_status_and_are_kept(runtime: Runtime, page: Page) -> None:
    malformed = await page.post(b'{"object": "page", "entry": [')
    assert malformed.status_code == 400
    unknown_object = await page.post(orjson.dumps({"object": "user", "entry": []}))
    assert unknown_object.status_code == 400
    assert "user" in unknown_object.text
    too_big = await page.post(b"x" * 1_000_001)
    assert too_big.status_code == 413
    async with runtime.sessions() as session:
        kept = (await session.scalars(select(InboundEvent).order_by(InboundEvent.id))).all()
    # Signed by Meta yet unreadable: recorded as failed, with the reason, never processed.
    assert [(e.status, e.external_id.startswith("bad:")) for e in kept] == [
        ("failed", True),
        ("failed", True),
    ]
    assert all(e.error and e.error.startswith("webhook: ") for e in kept)
    assert await count(runtime, Conversation) == 0


async def test_items_for_another_page_are_skipped(runtime: Runtime, page: Page) -> None:
    response = await page.post(envelope(message("psid-9", "m_9", "hi"), page_id="999"))
    assert response.status_code == 200
    assert await count(runtime, InboundEvent) == 0


async def test_same_webhook_three_times_gives_one_reply(
    runtime: Runtime, page: Page, graph: FakeGraph
) -> None:
    body = envelope(message("psid-1", "m_1", "xin chào shop"))
    for _ in range(3):
        assert (await page.post(body)).status_code == 200
    await wait_for(runtime, OutboundMessage, 1, OutboundMessage.status == "sent")
    await asyncio.sleep(0.5)  # give a duplicate every chance to show up
    assert await count(runtime, InboundEvent) == 1
    assert await count(runtime, OutboundMessage) == 1
    # The reply goes in a Graph batch request (outbox waves): its call is the Send API body.
    sends = [body for body in graph.sent_bodies() if "message" in body]
    assert len(sends) == 1
    assert sends[0]["recipient"] == {"id": "psid-1"}
    assert sends[0]["messaging_type"] == "RESPONSE"
    assert "tag" not in sends[0]


async def test_a_batch_of_fifty_items_is_processed_whole(runtime: Runtime, page: Page) -> None:
    items = [message(f"psid-{n}", f"m_{n}", f"tin nhắn {n}") for n in range(50)]
    assert (await page.post(envelope(*items))).status_code == 200
    await wait_for(runtime, Message, 50, Message.direction == "in")
    await wait_for(runtime, OutboundMessage, 50, OutboundMessage.status == "sent")
    assert await count(runtime, Conversation) == 50
    assert await count(runtime, InboundEvent, InboundEvent.status == "done") == 50


async def test_the_raw_body_is_kept_as_received_before_the_200(
    runtime: Runtime, page: Page
) -> None:
    # Meta's own bytes: escaped slashes and unicode, two items; then a redelivery.
    body = (
        b'{"object":"page","entry":[{"id":"' + PAGE_ID.encode() + b'","time":1,"messaging":['
        b'{"sender":{"id":"psid-r"},"recipient":{"id":"' + PAGE_ID.encode() + b'"},'
        b'"timestamp":1750000000000,"message":{"mid":"m_r1","text":"\\u00c1o 1\\/2"}},'
        b'{"sender":{"id":"psid-r"},"recipient":{"id":"' + PAGE_ID.encode() + b'"},'
        b'"timestamp":1750000000001,"message":{"mid":"m_r2","text":"size M"}}]}]}'
    )
    assert (await page.post(body)).status_code == 200
    assert (await page.post(body)).status_code == 200
    async with runtime.sessions() as session:
        deliveries = (
            await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        ).all()
        items = (await session.scalars(select(InboundEvent).order_by(InboundEvent.id))).all()
    assert [d.body for d in deliveries] == [body, body]
    assert [d.items for d in deliveries] == [2, 2]
    assert all(d.channel_account_id == page.account_id for d in deliveries)
    # The items are recorded once, pointing at the POST that first brought them.
    assert [(i.external_id, i.delivery_id) for i in items] == [
        ("m_r1", deliveries[0].id),
        ("m_r2", deliveries[0].id),
    ]


async def test_an_unreadable_signed_body_is_kept_with_why(runtime: Runtime, page: Page) -> None:
    body = b'{"object": "page", "entry": ['
    assert (await page.post(body)).status_code == 400
    async with runtime.sessions() as session:
        (delivery,) = (await session.scalars(select(WebhookDelivery))).all()
    assert delivery.body == body
    assert delivery.error is not None and delivery.error.startswith("webhook: body is not JSON")
