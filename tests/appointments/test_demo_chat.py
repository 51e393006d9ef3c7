"""The seeded demo shop through the widget channel's real inbound path: its booking flow
(phone, then service, day, time), its appointments and orders keywords."""

from __future__ import annotations

from sqlalchemy import select

from chatcart import demo
from chatcart.channels import service as channels
from chatcart.flows import service as flows
from chatcart.kit.db import transaction
from chatcart.models import Booking
from chatcart.runtime import Runtime
from chatcart.workspaces import service as workspaces
from tests.appointments.test_chat_booking import chip
from tests.helpers.factory import Shop, make_shop
from tests.shop.chat import Customer


async def demo_customer(runtime: Runtime, visitor: str = "v1") -> Customer:
    async with transaction(runtime.sessions) as session:
        await demo.seed(session, runtime.secrets, runtime.settings)
        workspace = await workspaces.find(session, demo.DEMO_SLUG)
        assert workspace is not None
        [widget] = await channels.list_accounts(session, workspace.id, "webchat")
    shop = Shop(
        workspace.id, demo.DEMO_SLUG, demo.DEMO_EMAIL, "", widget.external_id, widget.id, ""
    )
    return Customer(runtime, shop, visitor)


async def test_booking_through_the_demo_flow(runtime: Runtime) -> None:
    customer = await demo_customer(runtime)
    [phone] = await customer.say("Shop ơi em muốn đặt lịch")
    assert phone.text == "Để giữ lịch cho bạn, shop xin số điện thoại nhé 📞"
    [menu] = await customer.say("0912 345 678")
    assert menu.text.splitlines() == [
        "Bạn muốn đặt lịch dịch vụ nào?",
        "1. Tư vấn phối đồ · 30 phút · miễn phí",
        "2. Sửa đồ, lên lai quần · 15 phút · 30.000\xa0₫",
    ]
    [days] = await customer.tap(chip(menu, "Sửa đồ"))
    [times] = await customer.tap(chip(days, "Ngày mai"))
    first = times.quick_replies[0].title
    assert first == "09:00"  # the demo opens at 9:00 every day
    [booked] = await customer.tap(times.quick_replies[0].payload, first)
    assert booked.text.startswith("✅ Đã đặt lịch Sửa đồ, lên lai quần lúc 09:00, ")
    async with runtime.sessions() as session:
        row = await session.scalar(select(Booking))
    assert row is not None and (row.phone, row.source) == ("+84912345678", "chat")

    # The flow does not ask the phone again; "lịch hẹn của tôi" lists the booking.
    [menu_again] = await customer.say("đặt lịch")
    assert menu_again.text.startswith("Bạn muốn đặt lịch dịch vụ nào?")
    [mine] = await customer.say("lịch hẹn của tôi")
    assert mine.text.splitlines()[1].startswith("1. Sửa đồ, lên lai quần · 09:00, ")
    assert [q.title for q in mine.quick_replies] == ["Đổi giờ", "Huỷ lịch", "Đặt lịch mới"]


async def test_my_orders_words_reach_my_orders_not_the_phone_question(runtime: Runtime) -> None:
    customer = await demo_customer(runtime)
    for words in ("order ko", "đơn hàng của tôi", "my order", "Order không shop?"):
        [reply] = await customer.say(words)
        assert reply.text in {"Bạn chưa có đơn hàng nào.", "You have no orders yet."}, words
    [phone] = await customer.say("cho mình đặt hàng")
    assert "số điện thoại" in phone.text


async def test_a_demo_seeded_earlier_gets_the_flows_added_since(runtime: Runtime) -> None:
    made = await make_shop(runtime)
    edited = """
id: greeting
name: Greeting (edited by the seller)
triggers: [{type: keyword, keyword: "xin chào"}]
start: hi
steps:
  hi: {type: send, text: "Chào bạn!"}
"""
    async with transaction(runtime.sessions) as session:
        await flows.save(session, runtime.secrets, made.workspace_id, edited, publish=True)
        await demo.seed_flows(session, runtime.secrets, made.workspace_id)
        await demo.seed_flows(session, runtime.secrets, made.workspace_id)  # nothing new
        found = {f.key: f for f in await flows.list_flows(session, made.workspace_id)}
    assert {"booking", "my-appointments", "reorder", "my-orders"} <= set(found)
    assert len(found) == 12
    greeting = found["greeting"]
    assert (greeting.name, greeting.published_number) == ("Greeting (edited by the seller)", 1)
    assert all(f.published_number == 1 for f in found.values())
