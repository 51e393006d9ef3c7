"""A visitor chats through the real widget WebSocket; the spine answers through the outbox."""

from __future__ import annotations

import unicodedata

import pytest
import websockets
from sqlalchemy import func, select

from chatcart.models import (
    Contact,
    ContactIdentity,
    Conversation,
    DeliveryAttempt,
    InboundEvent,
    Message,
    OutboundMessage,
)
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.helpers.widget import Visitor


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_hello_gets_a_greeting_through_the_outbox(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, shop.widget_key).connect()
        assert visitor.history == []
        client_id = await visitor.say("xin chào")
        ack = await visitor.expect("ack")
        assert ack == {"type": "ack", "client_id": client_id, "duplicate": False}
        assert (await visitor.expect("typing"))["on"] is True
        reply = (await visitor.expect("message"))["message"]
        assert "Shop Áo Thun" in reply["text"]
        assert reply["text"].startswith("Xin chào")
        assert [q["title"] for q in reply["quick_replies"]] == ["Xem sản phẩm", "Gặp nhân viên"]
        assert (await visitor.expect("typing"))["on"] is False
        await visitor.close()

    async with runtime.sessions() as session:
        event = await session.scalar(select(InboundEvent))
        assert event is not None
        assert (event.status, event.external_id) == ("done", client_id)
        outbound = (await session.scalars(select(OutboundMessage))).all()
        assert len(outbound) == 1
        assert outbound[0].status == "sent"
        assert outbound[0].idempotency_key == f"reply:{event.id}:0:0"
        assert outbound[0].message_id == reply["id"]
        attempts = (await session.scalars(select(DeliveryAttempt))).all()
        assert [(a.number, a.outcome) for a in attempts] == [(1, "sent")]
        messages = (await session.scalars(select(Message).order_by(Message.id))).all()
        assert [(m.direction, m.sender) for m in messages] == [("in", "contact"), ("out", "bot")]
        contact = await session.scalar(select(Contact))
        assert contact is not None
        assert contact.source == {
            "channel": "webchat",
            "source": "WIDGET",
            "page_url": "https://shop.example/demo",
        }
        identity = await session.scalar(select(ContactIdentity))
        assert identity is not None and identity.external_id == visitor.welcome["visitor_id"]
        assert identity.last_inbound_at is not None


async def test_reload_keeps_the_conversation_and_resends_are_not_duplicated(
    runtime: Runtime,
) -> None:
    shop = await make_shop(runtime)
    async with live_server(runtime.settings) as host:
        first = await Visitor(host, shop.widget_key).connect()
        client_id = await first.say("Áo thun còn size M không?")
        await first.expect("ack")
        await first.expect("message")
        await first.close()

        # A reload: same token from localStorage -> same visitor, whole transcript back once.
        again = await Visitor(host, shop.widget_key, token=first.token).connect()
        assert again.welcome["visitor_id"] == first.welcome["visitor_id"]
        assert [(m["direction"], m["client_id"]) for m in again.history] == [
            ("in", client_id),
            ("out", None),
        ]
        # The browser did not see the ack before the reload, so it sends the same id again.
        await again.say("Áo thun còn size M không?", client_id=client_id)
        assert (await again.expect("ack"))["duplicate"] is True
        late = await again.frames_for(1.0)
        assert [f for f in late if f["type"] == "message"] == []
        await again.close()
    assert await count(runtime, InboundEvent) == 1
    assert await count(runtime, OutboundMessage) == 1
    assert await count(runtime, Conversation) == 1


async def test_a_forged_token_gets_a_new_visitor(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other")
    async with live_server(runtime.settings) as host:
        mine = await Visitor(host, shop.widget_key).connect()
        await mine.close()
        # A token from one widget is not valid on another, nor is a tampered one.
        for token in (mine.token, (mine.token or "") + "x"):
            stranger = await Visitor(host, other.widget_key, token=token).connect()
            assert stranger.welcome["visitor_id"] != mine.welcome["visitor_id"]
            await stranger.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_frame"),
        ('{"type": "shout", "text": "hi"}', "bad_frame"),
        ('{"type": "message", "text": "hi"}', "bad_frame"),
        ('{"type": "message", "client_id": "bad id with spaces", "text": "hi"}', "bad_frame"),
        ('{"type": "message", "client_id": "abcdefgh12", "text": "   "}', "empty"),
        ('{"type": "hello"}', "already_hello"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_stays(
    runtime: Runtime, frame: str, code: str
) -> None:
    shop = await make_shop(runtime)
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, shop.widget_key).connect()
        await visitor.send(frame)
        error = await visitor.expect("error")
        assert error["code"] == code
        assert error["message"]
        # Still connected and working.
        await visitor.say("hello")
        assert (await visitor.expect("ack"))["duplicate"] is False
        await visitor.close()
    assert await count(runtime, InboundEvent) == 1


async def test_binary_frames_are_refused_politely(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, shop.widget_key).connect()
        assert visitor.ws is not None
        await visitor.ws.send(b"\x00\x01")
        assert (await visitor.expect("error"))["code"] == "bad_frame"
        await visitor.close()


async def test_oversized_message_is_refused_and_nothing_is_stored(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, shop.widget_key).connect()
        client_id = await visitor.say("a" * 4001)
        error = await visitor.expect("error")
        assert error["code"] == "too_long"
        assert error["client_id"] == client_id
        assert error["limit"] == 4000
        assert "4001" in error["message"]
        await visitor.say("b" * 4000)  # exactly at the limit is fine
        assert (await visitor.expect("ack"))["duplicate"] is False
        await visitor.close()
    assert await count(runtime, InboundEvent) == 1


async def test_decomposed_vietnamese_is_stored_nfc(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    decomposed = unicodedata.normalize("NFD", "Đặt hàng áo thun")
    assert decomposed != "Đặt hàng áo thun"
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, shop.widget_key).connect()
        await visitor.say(decomposed)
        await visitor.expect("message")
        await visitor.close()
    async with runtime.sessions() as session:
        texts = (await session.scalars(select(Message.text).where(Message.direction == "in"))).all()
    assert texts == ["Đặt hàng áo thun"]


async def test_unknown_widget_key_is_closed_with_4404(runtime: Runtime) -> None:
    async with live_server(runtime.settings) as host:
        async with websockets.connect(f"ws://{host}/widget/ws?key=wk_nope") as ws:
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4404


async def test_phone_numbers_in_messages_join_the_contact(runtime: Runtime) -> None:
    from chatcart.models import ContactPoint

    shop = await make_shop(runtime)
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, shop.widget_key).connect()
        await visitor.say("Cho em đặt 2 áo, sdt em 0912.345.678, mail lan@gmail.com")
        await visitor.expect("message")
        await visitor.close()
    async with runtime.sessions() as session:
        points = (await session.scalars(select(ContactPoint).order_by(ContactPoint.kind))).all()
        contact = await session.scalar(select(Contact))
    assert [(p.kind, p.value, p.source) for p in points] == [
        ("email", "lan@gmail.com", "message"),
        ("phone", "+84912345678", "message"),
    ]
    assert all(p.message_id is not None for p in points)
    assert contact is not None and "0912345678" in contact.search_text
