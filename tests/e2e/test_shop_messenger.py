"""A purchase in Messenger against the strict Graph sandbox (carousel, quick replies,
receipt template), then order news through policy: sent inside the 24-hour window;
outside it recorded as not sent with the rule, and sent once the customer writes; the same
for a booking the shop cancels."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import select, update

from chatcart.appointments import service as appointments
from chatcart.appointments.schemas import BookingIn
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.models import ContactIdentity, Conversation, Order, OutboundMessage
from chatcart.runtime import Runtime
from chatcart.shop import service as shop
from tests.appointments.helpers import open_salon
from tests.e2e.test_messenger_sandbox import PAGE, World, world  # noqa: F401  (fixture)
from tests.shop.chat import add_tee

PSID = "psid-an"


async def _until(place: World, check: Callable[[list[Any]], bool], timeout: float = 20) -> Any:
    for _ in range(int(timeout / 0.05)):
        # Messages only: typing and seen sender actions carry no "message".
        sends = [s for s in place.graph.sends(PAGE, PSID) if s.accepted and "message" in s.request]
        if check(sends):
            return sends
        await asyncio.sleep(0.05)
    raise AssertionError([s.request.get("message") for s in place.graph.sends(PAGE, PSID)])


def _template(sends: list[Any], kind: str) -> dict[str, Any]:
    return next(
        s.request["message"]["attachment"]["payload"]
        for s in sends
        if "attachment" in s.request["message"]
        and s.request["message"]["attachment"]["payload"].get("template_type") == kind
    )


def _templates(kind: str) -> Callable[[list[Any]], bool]:
    def check(sends: list[Any]) -> bool:
        try:
            _template(sends, kind)
        except StopIteration:
            return False
        return True

    return check


def _texts(sends: list[Any]) -> list[str]:
    return [s.request["message"].get("text", "") for s in sends if "message" in s.request]


def _has(text: str) -> Callable[[list[Any]], bool]:
    return lambda sends: any(text in t for t in _texts(sends))


async def _status(runtime: Runtime, order_id: int, to: Any) -> None:
    effects = Effects()
    async with transaction(runtime.sessions) as session:
        await shop.change_status(session, effects, _ws(runtime), order_id, to, actor="test")
    await effects.flush(runtime.bus)


_WORKSPACE: dict[int, int] = {}


def _ws(runtime: Runtime) -> int:
    return _WORKSPACE[id(runtime)]


async def test_a_purchase_in_messenger_then_order_news_through_policy(
    runtime: Runtime,
    world: World,  # noqa: F811
) -> None:
    _WORKSPACE[id(runtime)] = world.shop.workspace_id
    tee = await add_tee(runtime, world.shop.workspace_id)
    graph = world.graph
    graph.add_user(PAGE, PSID, first_name="An", last_name="Nguyễn")
    await graph.user_says(PAGE, PSID, "tìm áo thun")
    template = _template(await _until(world, _templates("generic")), "generic")
    assert template["elements"][0]["buttons"][0]["payload"] == f"SHOP:P:{tee['id']}"

    await graph.user_postback(PAGE, PSID, f"SHOP:P:{tee['id']}", "Chọn")
    await _until(world, _has("bạn chọn loại nào?"))
    await graph.user_says(PAGE, PSID, "M", quick_reply_payload=f"SHOP:V:{tee['variants']['M']}")
    await _until(world, _has("Bạn lấy mấy"))
    await graph.user_says(PAGE, PSID, "2", quick_reply_payload=f"SHOP:Q:{tee['variants']['M']}:2")
    await _until(world, _has("Giỏ hàng của bạn"))
    await graph.user_postback(PAGE, PSID, "SHOP:CHECKOUT", "Đặt hàng")
    await _until(world, _has("tên người nhận"))
    await graph.user_says(PAGE, PSID, "Nguyễn Văn An")
    await _until(world, _has("Số điện thoại nhận hàng"))
    await graph.user_says(PAGE, PSID, "0912345678")
    await _until(world, _has("Địa chỉ giao hàng"))
    await graph.user_says(PAGE, PSID, "12 Lê Lợi, P. Bến Nghé, Quận 1, TP Hồ Chí Minh 700000")
    await _until(world, _has("xác nhận đặt đơn"))
    receipt = _template(await _until(world, _templates("receipt")), "receipt")
    assert receipt["summary"]["total_cost"] == 330000
    # The address, split the way the receipt template wants it (the sandbox checks it).
    assert receipt["address"] == {
        "street_1": "12 Lê Lợi",
        "street_2": "P. Bến Nghé",
        "city": "Quận 1",
        "state": "TP Hồ Chí Minh",
        "postal_code": "700000",
        "country": "VN",
    }
    await graph.user_says(PAGE, PSID, "Xác nhận", quick_reply_payload="SHOP:CONFIRM")
    await _until(world, _has("Shop đã nhận đơn #1001"))
    async with runtime.sessions() as session:
        order = await session.scalar(select(Order))
        assert order is not None and order.phone == "+84912345678"

    # Inside the window: the news goes out at once.
    await _status(runtime, order.id, "confirmed")
    await _until(world, _has("Đơn #1001: đã xác nhận."))

    # Two days later the window is closed: the news is kept, with the rule that stopped it.
    long_ago = utcnow() - timedelta(days=2)
    graph.set_interaction(PAGE, PSID, long_ago)
    async with transaction(runtime.sessions) as session:
        await session.execute(update(ContactIdentity).values(last_inbound_at=long_ago))
    await _status(runtime, order.id, "packed")
    await _held_by_policy(runtime, f"order:{order.id}:packed")
    assert not _has("Đơn #1001: đã đóng gói.")(graph.sends(PAGE, PSID))

    # The customer writes again: the window opens and the held news goes.
    await graph.user_says(PAGE, PSID, "alo shop")
    await _until(world, _has("Đơn #1001: đã đóng gói."))


async def test_a_booking_the_shop_cancels_outside_the_window_is_told_when_the_customer_writes(
    runtime: Runtime,
    world: World,  # noqa: F811
) -> None:
    workspace_id = world.shop.workspace_id
    salon = await open_salon(runtime, workspace_id)
    graph = world.graph
    graph.add_user(PAGE, PSID, first_name="An", last_name="Nguyễn")
    await graph.user_says(PAGE, PSID, "xin chào")
    await _until(world, lambda sends: len(sends) >= 1)
    async with runtime.sessions() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
    starts = (utcnow() + timedelta(days=2)).astimezone(UTC)
    starts = starts.replace(hour=3, minute=0, second=0, microsecond=0)  # 10:00 in Hồ Chí Minh
    async with transaction(runtime.sessions) as session:
        booked = await appointments.book(
            session,
            workspace_id,
            BookingIn(
                service_id=salon.styling, starts_at=starts, contact_id=conversation.contact_id
            ),
            source="chat",
            conversation_id=conversation.id,
        )

    # Two days without a word from the customer: the window is closed, the notice is held.
    long_ago = utcnow() - timedelta(days=2)
    graph.set_interaction(PAGE, PSID, long_ago)
    async with transaction(runtime.sessions) as session:
        await session.execute(update(ContactIdentity).values(last_inbound_at=long_ago))
    effects = Effects()
    async with transaction(runtime.sessions) as session:
        await appointments.cancel_and_tell(session, effects, workspace_id, booked.id, by="shop")
    await effects.flush(runtime.bus)
    await _held_by_policy(runtime, f"appointment:{booked.id}:cancelled")
    assert not _has("Shop rất tiếc phải huỷ lịch")(graph.sends(PAGE, PSID))

    # The customer writes: the window opens and the notice goes, once.
    await graph.user_says(PAGE, PSID, "shop ơi")
    await _until(world, _has("Shop rất tiếc phải huỷ lịch Tư vấn phối đồ lúc 10:00"))
    await graph.user_says(PAGE, PSID, "alo")
    await asyncio.sleep(0.5)
    sent = [t for t in _texts(graph.sends(PAGE, PSID)) if "Shop rất tiếc" in t]
    assert len(sent) == 1


async def _held_by_policy(runtime: Runtime, key: str) -> None:
    """Wait until the outbound message with this key is recorded as not sent, by policy."""
    held = None
    for _ in range(300):
        async with runtime.sessions() as session:
            held = await session.scalar(
                select(OutboundMessage).where(OutboundMessage.idempotency_key == key)
            )
        if held is not None and held.status == "failed":
            break
        await asyncio.sleep(0.05)
    assert held is not None and held.status == "failed"
    assert (held.error_code or "").startswith("policy:")
