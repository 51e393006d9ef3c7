"""A whole purchase in chat through the widget channel: search carousel, variant,
quantity, cart, checkout with a phone re-asked, summary, confirm; prices that changed
are told before confirming; my orders and a one-tap reorder."""

from __future__ import annotations

from sqlalchemy import select, update

from chatcart.kit.db import transaction
from chatcart.models import Order, OrderItem, ProductVariant
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop
from tests.shop.chat import Customer, add_tee


async def _to_summary(customer: Customer, variant_id: int) -> None:
    await customer.tap(f"SHOP:Q:{variant_id}:2", "2")
    assert (await customer.tap("SHOP:CHECKOUT"))[0].text == "Cho shop xin tên người nhận ạ."
    await customer.say("Nguyễn Văn An")
    await customer.say("0912 345 678")
    await customer.say("12 Lê Lợi, Quận 1, TP Hồ Chí Minh")


async def test_a_purchase_from_search_to_confirmed_order(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    tee = await add_tee(runtime, shop.workspace_id)
    customer = Customer(runtime, shop)

    [results] = await customer.say("còn áo thun size M không?")
    card = next(c for c in results.cards if c.title == "Áo thun basic")
    assert card.subtitle == "150.000\xa0₫"
    assert [(b.title, b.payload) for b in card.buttons] == [("Chọn", f"SHOP:P:{tee['id']}")]

    [variants] = await customer.tap(f"SHOP:P:{tee['id']}", "Chọn")
    assert variants.text == "Áo thun basic: bạn chọn loại nào?"
    assert [q.payload for q in variants.quick_replies] == [
        f"SHOP:V:{tee['variants']['S']}",
        f"SHOP:V:{tee['variants']['M']}",
    ]
    [quantity] = await customer.tap(f"SHOP:V:{tee['variants']['M']}")
    assert quantity.text == "Bạn lấy mấy Áo thun basic (M)?"
    added, cart, *also = await customer.say("2")
    assert added.text == "Đã thêm 2 × Áo thun basic (M) vào giỏ."
    assert "Tạm tính: 300.000\xa0₫" in cart.text
    assert [c.title for c in also[0].cards] == ["Áo polo"]  # same category, in stock

    await customer.tap("SHOP:CHECKOUT")
    [phone_question] = await customer.say("Nguyễn Văn An")
    assert phone_question.text == "Số điện thoại nhận hàng của bạn là gì?"
    [again] = await customer.say("12345")
    assert again.text.endswith("ví dụ: 0912 345 678")
    [address_question] = await customer.say("0912 345 678")
    assert address_question.text.startswith("Địa chỉ giao hàng")
    summary, question = await customer.say("12 Lê Lợi, Quận 1, TP Hồ Chí Minh")
    assert "Tổng cộng: 330.000\xa0₫" in summary.text  # 300.000 + the flat 30.000 shipping
    assert "Khi nhận hàng (COD)" in summary.text
    assert question.quick_replies[0].payload == "SHOP:CONFIRM"

    placed, *_ = await customer.tap("SHOP:CONFIRM", "Xác nhận")
    assert placed.text == "Cảm ơn bạn! Shop đã nhận đơn #1001 (330.000\xa0₫)."
    async with runtime.sessions() as session:
        order = await session.scalar(select(Order))
        assert order is not None
        assert (order.phone, order.total, order.shipping_fee) == ("+84912345678", 330000, 30000)
        assert order.customer_name == "Nguyễn Văn An"
        stock = await session.scalar(
            select(ProductVariant.stock).where(ProductVariant.id == tee["variants"]["M"])
        )
        assert stock == 3

    [mine] = await customer.say("đơn hàng của tôi")
    assert "#1001" in mine.text and "chờ xác nhận" in mine.text
    assert mine.quick_replies[0].payload == f"SHOP:REORDER:{order.id}"
    reordered, summary, question = await customer.tap(mine.quick_replies[0].payload)
    assert reordered.text == "Các món của đơn #1001 đã vào lại giỏ."
    assert "Nguyễn Văn An, +84912345678" in summary.text
    await customer.tap("SHOP:CONFIRM")
    async with runtime.sessions() as session:
        numbers = (await session.scalars(select(Order.number).order_by(Order.id))).all()
        assert numbers == [1001, 1002]


async def test_a_changed_price_and_a_sold_out_item_are_told_before_confirming(
    runtime: Runtime,
) -> None:
    shop = await make_shop(runtime)
    tee = await add_tee(runtime, shop.workspace_id)
    customer = Customer(runtime, shop)
    await customer.tap(f"SHOP:Q:{tee['variants']['S']}:1")
    await _to_summary(customer, tee["variants"]["M"])
    async with transaction(runtime.sessions) as session:
        await session.execute(
            update(ProductVariant)
            .where(ProductVariant.id == tee["variants"]["M"])
            .values(price=160000)
        )
        await session.execute(
            update(ProductVariant).where(ProductVariant.id == tee["variants"]["S"]).values(stock=0)
        )
    gone, price, summary, _ = await customer.tap("SHOP:CONFIRM")
    assert price.text == "Giá Áo thun basic (M) vừa đổi từ 150.000\xa0₫ thành 160.000\xa0₫."
    assert gone.text == "Áo thun basic (S) vừa hết hàng nên shop đã bỏ khỏi giỏ."
    assert "Tổng cộng: 350.000\xa0₫" in summary.text
    async with runtime.sessions() as session:
        assert await session.scalar(select(Order)) is None  # nothing until confirmed again
    await customer.tap("SHOP:CONFIRM")
    async with runtime.sessions() as session:
        items = (await session.scalars(select(OrderItem))).all()
        assert [(i.variant_title, i.unit_price, i.quantity) for i in items] == [("M", 160000, 2)]


async def test_an_english_customer_is_answered_in_english(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    tee = await add_tee(runtime, shop.workspace_id)
    customer = Customer(runtime, shop)
    [empty] = await customer.say("my order")
    assert empty.text == "You have no orders yet."
    # A tap says nothing of a language: the chat stays in English.
    added, cart, *_ = await customer.tap(f"SHOP:Q:{tee['variants']['S']}:1")
    assert added.text == "Added 1 × Áo thun basic (S) to your cart."
    assert cart.text.startswith("Your cart:")
    [name] = await customer.tap("SHOP:CHECKOUT", "Check out")
    assert name.text == "What name goes on the order?"
    await customer.say("Maria Santos")
    [again] = await customer.say("0917")
    assert again.text.startswith("That phone number does not look right")
