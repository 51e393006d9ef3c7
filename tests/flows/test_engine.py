"""Flows in the conversation engine: actions executed through contacts, conversations and
the outbox; published versions pinned per run; durable waits resumed after a restart;
signed HTTP steps; archive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from chatcart.channels import service as channels
from chatcart.contacts import service as contacts
from chatcart.flows import service as flows
from chatcart.flows.http_call import signature
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import Contact, Conversation, FlowRun, Message, OutboundMessage
from chatcart.runtime import Runtime
from chatcart.worker.loops import Worker
from tests.helpers.factory import Shop, make_shop
from tests.helpers.servers import free_port

ORDER = """\
id: order
name: Order
triggers: [{type: keyword, any_of: [đặt hàng]}, {type: payload, payload: HUMAN}]
start: ask
steps:
  ask: {type: ask, kind: phone, question: "SĐT của bạn?", save_to: phone, next: tag}
  tag: {type: tag, add: [Khách đặt hàng], next: thanks}
  thanks: {type: send, text: "Cảm ơn! Shop gọi {{phone}} nhé (v1)"}
"""


class Chat:
    def __init__(self, runtime: Runtime, shop: Shop) -> None:
        self.runtime, self.shop = runtime, shop
        self.worker = Worker(runtime, worker_id="w1")
        self.count = 0

    async def say(self, text: str, visitor: str = "v1", payload: str | None = None) -> list[str]:
        """The bot's replies to one widget message (the texts of its new messages)."""
        self.count += 1
        body = {
            "visitor_id": visitor,
            "client_id": f"c{self.count}",
            "text": text,
            "payload": payload,
            "sent_at": utcnow().isoformat(),
        }
        async with self.runtime.sessions() as session:
            before = await _last_message_id(session)
        async with transaction(self.runtime.sessions) as session:
            account = await channels.get_account(session, self.shop.widget_account_id)
            await channels.record_inbound(
                session,
                account,
                external_id=f"ev{self.count}",
                body=json.dumps(body).encode(),
                sender_external_id=visitor,
            )
        assert await self.worker.inbound_once() == 1
        return await self.bot_since(before)

    async def bot_since(self, message_id: int) -> list[str]:
        async with self.runtime.sessions() as session:
            rows = await session.scalars(
                select(Message.text)
                .where(Message.id > message_id, Message.sender == "bot")
                .order_by(Message.id)
            )
            return list(rows.all())


async def _last_message_id(session: Any) -> int:
    return int(await session.scalar(select(Message.id).order_by(Message.id.desc())) or 0)


async def _publish(runtime: Runtime, shop: Shop, text: str) -> None:
    async with transaction(runtime.sessions) as session:
        await flows.save(session, runtime.secrets, shop.workspace_id, text, publish=True)


@pytest.fixture
async def shop(runtime: Runtime) -> Shop:
    return await make_shop(runtime)


async def test_without_flows_the_greeter_answers(runtime: Runtime, shop: Shop) -> None:
    chat = Chat(runtime, shop)
    [greeting] = await chat.say("xin chào")
    assert greeting.startswith("Xin chào! 👋")


async def test_a_flow_asks_saves_the_phone_tags_and_sends_through_the_outbox(
    runtime: Runtime, shop: Shop
) -> None:
    await _publish(runtime, shop, ORDER)
    chat = Chat(runtime, shop)
    assert await chat.say("ĐẶT HÀNG") == ["SĐT của bạn?"]
    assert await chat.say("không nhớ") == ["SĐT của bạn?"]
    assert await chat.say("0912 345 678") == ["Cảm ơn! Shop gọi +84912345678 nhé (v1)"]
    async with runtime.sessions() as session:
        contact_id = await session.scalar(select(Contact.id))
        assert contact_id is not None
        assert (await contacts.fields_of(session, contact_id))["phone"] == "+84912345678"
        assert await contacts.tags_of(session, contact_id) == ["Khách đặt hàng"]
        person = await session.get(Contact, contact_id)
        assert person is not None and "0912345678" in person.search_text  # a contact point
        keys = (await session.scalars(select(OutboundMessage.idempotency_key))).all()
        assert len(keys) == len(set(keys)) == 3
        assert await session.scalar(select(FlowRun)) is None  # the run ended


async def test_a_run_stays_on_its_version_when_a_new_one_is_published(
    runtime: Runtime, shop: Shop
) -> None:
    await _publish(runtime, shop, ORDER)
    chat = Chat(runtime, shop)
    assert await chat.say("đặt hàng", visitor="old") == ["SĐT của bạn?"]
    await _publish(runtime, shop, ORDER.replace("(v1)", "(v2)").replace("SĐT", "Số"))
    assert await chat.say("đặt hàng", visitor="new") == ["Số của bạn?"]
    assert await chat.say("0912345678", visitor="old") == ["Cảm ơn! Shop gọi +84912345678 nhé (v1)"]
    assert await chat.say("0912345679", visitor="new") == ["Cảm ơn! Shop gọi +84912345679 nhé (v2)"]
    async with runtime.sessions() as session:
        listed = await flows.list_flows(session, shop.workspace_id)
    assert [(f.key, f.status, f.published_number) for f in listed] == [("order", "active", 2)]


async def test_handover_pauses_the_bot(runtime: Runtime, shop: Shop) -> None:
    await _publish(
        runtime,
        shop,
        "id: human\nname: Human\ntriggers: [{type: keyword, keyword: nhân viên}]\n"
        "start: h\nsteps: {h: {type: handover, text: 'Chờ nhân viên nhé'}}\n",
    )
    chat = Chat(runtime, shop)
    assert await chat.say("cho gặp nhân viên") == ["Chờ nhân viên nhé"]
    assert await chat.say("alo?") == []
    async with runtime.sessions() as session:
        assert await session.scalar(select(Conversation.bot_paused)) is True


async def test_an_archived_flow_starts_no_more_but_lets_runs_finish(
    runtime: Runtime, shop: Shop
) -> None:
    await _publish(runtime, shop, ORDER)
    chat = Chat(runtime, shop)
    assert await chat.say("đặt hàng") == ["SĐT của bạn?"]
    async with transaction(runtime.sessions) as session:
        await flows.archive(session, shop.workspace_id, "order")
    assert await chat.say("0912345678") == ["Cảm ơn! Shop gọi +84912345678 nhé (v1)"]
    [reply] = await chat.say("đặt hàng")
    assert reply.startswith("Cảm ơn bạn!")  # the greeter's acknowledgement, not the flow


WAITING = """\
id: care
name: Care
triggers: [{type: keyword, keyword: mua}]
start: a
steps:
  a: {type: send, text: "Đã ghi nhận", next: w}
  w: {type: wait, hours: 2, next: b}
  b: {type: send, text: "Bạn hài lòng với sản phẩm chứ?"}
"""


async def test_a_wait_survives_a_restart(runtime: Runtime, shop: Shop) -> None:
    await _publish(runtime, shop, WAITING)
    chat = Chat(runtime, shop)
    assert await chat.say("mua") == ["Đã ghi nhận"]
    async with runtime.sessions() as session:
        run = await session.scalar(select(FlowRun))
        assert run is not None and run.status == "timer"
        assert run.wake_at is not None and run.wake_at > utcnow() + timedelta(minutes=119)
        last = await _last_message_id(session)
    assert await chat.worker.flows_once() == 0  # not due yet

    # A new process (the old one is gone), two hours later.
    later = Runtime.open(runtime.settings)
    try:
        async with transaction(later.sessions) as session:
            stored = await session.scalar(select(FlowRun))
            assert stored is not None
            past = utcnow() - timedelta(seconds=1)
            stored.state = {**stored.state, "wake_at": past.isoformat()}
            stored.wake_at = past
        assert await Worker(later, worker_id="w2").flows_once() == 1
        assert await Worker(later, worker_id="w3").flows_once() == 0  # done once
    finally:
        await later.close()
    assert await chat.bot_since(last) == ["Bạn hài lòng với sản phẩm chứ?"]
    async with runtime.sessions() as session:
        assert await session.scalar(select(FlowRun)) is None
        statuses = (await session.scalars(select(OutboundMessage.idempotency_key))).all()
        assert len(statuses) == 2


async def test_a_message_during_a_wait_interrupts_it(runtime: Runtime, shop: Shop) -> None:
    await _publish(runtime, shop, WAITING)
    chat = Chat(runtime, shop)
    await chat.say("mua")
    [reply] = await chat.say("còn size M không?")
    assert reply.startswith("Cảm ơn bạn!")  # no trigger: the greeter; the wait is gone
    async with runtime.sessions() as session:
        assert await session.scalar(select(FlowRun)) is None


HTTP = """\
id: points
name: Points
variables: {points: "0"}
triggers: [{type: keyword, keyword: điểm}]
start: call
steps:
  call:
    type: http
    url: "URL"
    body: {name: "{{first_name}}", q: "điểm"}
    timeout_seconds: 1
    save: {points: data.points}
    error: sorry
    next: show
  show: {type: send, text: "Bạn có {{points}} điểm"}
  sorry: {type: send, text: "Hệ thống đang bận"}
"""


@pytest.fixture
async def crm() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def points(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append({"headers": dict(request.headers), "body": body})
        if request.path == "/slow":
            await __import__("asyncio").sleep(3)
        if request.path == "/garbage":
            return web.Response(text="<html>oops</html>")
        return web.json_response({"data": {"points": 42}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", points)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("path", "reply"),
    [("/ok", "Bạn có 42 điểm"), ("/slow", "Hệ thống đang bận"), ("/garbage", "Hệ thống đang bận")],
)
async def test_http_steps_are_signed_mapped_and_fail_to_the_error_branch(
    runtime: Runtime, shop: Shop, crm: tuple[str, list[dict[str, Any]]], path: str, reply: str
) -> None:
    base, seen = crm
    await _publish(runtime, shop, HTTP.replace("URL", base + path))
    chat = Chat(runtime, shop)
    assert await chat.say("điểm của tôi") == []  # the call is made by the flows loop
    async with runtime.sessions() as session:
        last = await _last_message_id(session)
        secret = await flows.signing_secret(session, runtime.secrets, shop.workspace_id, "points")
    assert await chat.worker.flows_once() == 1
    assert await chat.bot_since(last) == [reply]
    [call] = seen
    assert json.loads(call["body"]) == {"name": "bạn", "q": "điểm"}
    timestamp = call["headers"]["X-Chatcart-Timestamp"]
    assert call["headers"]["X-Chatcart-Signature"] == signature(secret, timestamp, call["body"])


async def test_goto_into_a_flow_saved_on_its_own(runtime: Runtime, shop: Shop) -> None:
    await _publish(
        runtime,
        shop,
        "id: thanks\nname: Thanks\nstart: t\nsteps: {t: {type: send, text: 'Cảm ơn nhiều!'}}\n",
    )
    await _publish(
        runtime,
        shop,
        "id: entry\nname: Entry\ntriggers: [{type: keyword, keyword: cảm ơn}]\nstart: g\n"
        "steps: {g: {type: goto, flow: thanks}}\n",
    )
    chat = Chat(runtime, shop)
    assert await chat.say("cam on shop") == ["Cảm ơn nhiều!"]
