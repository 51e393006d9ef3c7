"""A whole purchase through the running app's widget WebSocket, as a browser makes it:
search -> carousel "Chọn" -> variant -> quantity -> cart -> checkout (name, phone, address)
-> cash on delivery -> confirm; the order is there and its stock taken. Every tap sends the
title and payload the widget was given in its frames (nothing built by hand)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from chatcart.kit.db import transaction
from chatcart.models import Order, OrderItem, ProductVariant
from chatcart.runtime import Runtime
from chatcart.shop import service as shop_service
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.helpers.widget import Visitor
from tests.shop.chat import add_tee


def _choice(message: dict[str, Any], title: str) -> tuple[str, str]:
    """(title, payload) of the quick reply, button or card button called `title`."""
    found = [*message["quick_replies"], *message["buttons"]]
    found += [b for card in message.get("cards", []) for b in card["buttons"]]
    for item in found:
        if item["title"] == title and item.get("payload"):
            return item["title"], item["payload"]
    raise AssertionError(f"nothing to tap called {title!r} in {message}")


def _text(expected: str) -> Any:
    return lambda message: message["text"].startswith(expected)


async def test_a_purchase_through_the_live_widget(runtime: Runtime) -> None:
    made = await make_shop(runtime)
    tee = await add_tee(runtime, made.workspace_id, stock=5)
    async with live_server(runtime.settings) as host:
        async with transaction(runtime.sessions) as session:  # pay pages at this address
            await shop_service.save_settings(
                session, made.workspace_id, public_url=f"http://{host}", payment_link=True
            )
        visitor = await Visitor(host, made.widget_key).connect()

        await visitor.say("còn áo thun size M không?")
        [results] = await visitor.replies_until(lambda m: bool(m.get("cards")))
        assert results["text"] == "Shop có mấy mẫu này:"
        card = next(c for c in results["cards"] if c["title"] == "Áo thun basic")
        assert card["subtitle"] == "150.000\xa0₫"
        await visitor.tap(*_choice({"quick_replies": [], "buttons": [], "cards": [card]}, "Chọn"))

        [variants] = await visitor.replies_until(_text("Áo thun basic: bạn chọn loại nào?"))
        assert [q["title"] for q in variants["quick_replies"]] == [
            "S · 150.000\xa0₫",
            "M · 150.000\xa0₫",
        ]
        await visitor.tap(*_choice(variants, "M · 150.000\xa0₫"))
        [quantity] = await visitor.replies_until(_text("Bạn lấy mấy Áo thun basic (M)?"))
        await visitor.tap(*_choice(quantity, "2"))

        added, cart, also = await visitor.replies_until(_text("Có thể bạn cũng thích:"))
        assert added["text"] == "Đã thêm 2 × Áo thun basic (M) vào giỏ."
        assert "Tạm tính: 300.000\xa0₫" in cart["text"]
        assert [c["title"] for c in also["cards"]] == ["Áo polo"]
        # The suggestions come last, so they carry the cart's quick replies.
        assert [q["title"] for q in also["quick_replies"]] == ["Đặt hàng", "Xem thêm", "Sửa giỏ"]
        await visitor.tap(*_choice(also, "Đặt hàng"))

        await visitor.replies_until(_text("Cho shop xin tên người nhận ạ."))
        await visitor.say("Nguyễn Văn An")
        await visitor.replies_until(_text("Số điện thoại nhận hàng của bạn là gì?"))
        await visitor.say("0912 345 678")
        await visitor.replies_until(_text("Địa chỉ giao hàng"))
        await visitor.say("12 Lê Lợi, Quận 1, TP Hồ Chí Minh")
        [payment] = await visitor.replies_until(_text("Bạn muốn thanh toán thế nào?"))
        assert [q["title"] for q in payment["quick_replies"]] == [
            "Khi nhận hàng (COD)",
            "Thanh toán online",
        ]
        await visitor.tap(*_choice(payment, "Khi nhận hàng (COD)"))
        summary, question = await visitor.replies_until(_text("Bạn xác nhận đặt đơn này nhé?"))
        assert "Tổng cộng: 330.000\xa0₫" in summary["text"]  # + 30.000 shipping
        assert "Nguyễn Văn An, +84912345678" in summary["text"]
        await visitor.tap(*_choice(question, "Xác nhận"))
        placed = await visitor.replies_until(_text("Cảm ơn bạn! Shop đã nhận đơn #1001"))
        assert placed[-1]["text"] == "Cảm ơn bạn! Shop đã nhận đơn #1001 (330.000\xa0₫)."
        await visitor.close()

    async with runtime.sessions() as session:
        order = await session.scalar(select(Order))
        assert order is not None
        assert (order.number, order.status, order.payment_method) == (1001, "pending", "cod")
        assert (order.customer_name, order.phone) == ("Nguyễn Văn An", "+84912345678")
        assert (order.total, order.shipping_fee) == (330000, 30000)
        items = (await session.scalars(select(OrderItem))).all()
        assert [(i.variant_id, i.quantity) for i in items] == [(tee["variants"]["M"], 2)]
        stock = await session.scalar(
            select(ProductVariant.stock).where(ProductVariant.id == tee["variants"]["M"])
        )
        assert stock == 3  # 5 - 2
