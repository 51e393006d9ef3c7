"""Checkout: stock is taken with the order, given back on cancel, return and expiry; two
customers racing for the last item make exactly one order; a changed price or missing stock
stops the checkout with the lines concerned; statuses move only along the allowed paths."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from chatcart.catalog import service as catalog
from chatcart.catalog.schemas import ProductOut, VariantIn
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError
from chatcart.orders import service as orders
from chatcart.orders.errors import (
    CheckoutInvalid,
    NotForSale,
    OutOfStock,
    PriceChanged,
    StatusChangeRefused,
)
from chatcart.orders.schemas import Checkout, CheckoutLine
from chatcart.runtime import Runtime
from tests.catalog.helpers import save, tee
from tests.helpers.factory import make_shop


def checkout(*lines: tuple[int, int], **changes: object) -> Checkout:
    data: dict[str, object] = {
        "lines": [CheckoutLine(variant_id=v, quantity=q) for v, q in lines],
        "customer_name": "Trần Thị Lan",
        "phone": "0912 345 678",
        "address": "12 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
        "shipping_fee": 30000,
    }
    data.update(changes)
    return Checkout(**data)  # type: ignore[arg-type]


async def stock_of(runtime: Runtime, workspace_id: int, product_id: int) -> list[int | None]:
    async with runtime.sessions() as session:
        product = await catalog.get_product(session, workspace_id, product_id)
    return [v.stock for v in product.variants]


async def shop_with_tee(runtime: Runtime) -> tuple[int, ProductOut]:
    shop = await make_shop(runtime)
    return shop.workspace_id, await save(runtime, shop.workspace_id, tee())


async def test_an_order_takes_stock_and_a_cancel_gives_it_back(runtime: Runtime) -> None:
    ws, product = await shop_with_tee(runtime)
    red_m, _, black_m = product.variants  # stock 3, 0, not tracked
    async with transaction(runtime.sessions) as session:
        order = await orders.place_order(session, ws, checkout((red_m.id, 2), (black_m.id, 5)))
    assert (order.number, order.status, order.phone) == (1001, "pending", "+84912345678")
    assert (order.subtotal, order.total) == (2 * 150000 + 5 * 150000, 1080000)
    assert [(i.name, i.variant_title, i.quantity) for i in order.items] == [
        ("Áo thun cotton basic", "M / Đỏ", 2),
        ("Áo thun cotton basic", "M / Đen", 5),
    ]
    assert await stock_of(runtime, ws, product.id) == [1, 0, None]
    async with transaction(runtime.sessions) as session:
        second = await orders.place_order(session, ws, checkout((red_m.id, 1)))
        changed = await orders.change_status(session, ws, order.id, "cancelled", actor="owner")
    assert second.number == 1002
    assert (changed.from_status, changed.to_status) == ("pending", "cancelled")
    assert await stock_of(runtime, ws, product.id) == [2, 0, None]
    with pytest.raises(StatusChangeRefused, match="it can become nothing"):
        async with transaction(runtime.sessions) as session:
            await orders.change_status(session, ws, order.id, "confirmed", actor="owner")
    assert await stock_of(runtime, ws, product.id) == [2, 0, None]  # not given back twice


async def test_the_whole_way_and_a_return(runtime: Runtime) -> None:
    ws, product = await shop_with_tee(runtime)
    async with transaction(runtime.sessions) as session:
        order = await orders.place_order(session, ws, checkout((product.variants[0].id, 1)))
    for status in ("confirmed", "packed", "shipped", "delivered", "returned"):
        async with transaction(runtime.sessions) as session:
            changed = await orders.change_status(
                session, ws, order.id, status, actor="owner",  # type: ignore[arg-type]
                tracking_code="GHN123" if status == "shipped" else None,
            )  # fmt: skip
    final = changed.order
    assert final.tracking_code == "GHN123" and final.payment_status == "paid"
    assert [e.to_status for e in final.events] == [
        "pending", "confirmed", "packed", "shipped", "delivered", "returned",
    ]  # fmt: skip
    assert await stock_of(runtime, ws, product.id) == [3, 0, None]
    async with transaction(runtime.sessions) as session:
        other = await orders.place_order(session, ws, checkout((product.variants[2].id, 1)))
    with pytest.raises(StatusChangeRefused, match="is pending: it can become confirmed"):
        async with transaction(runtime.sessions) as session:
            await orders.change_status(session, ws, other.id, "shipped", actor="owner")


async def test_customers_are_told_before_confirming(runtime: Runtime) -> None:
    ws, product = await shop_with_tee(runtime)
    red_m, red_l, _ = product.variants
    with pytest.raises(OutOfStock) as short:
        async with transaction(runtime.sessions) as session:
            await orders.place_order(session, ws, checkout((red_m.id, 2), (red_l.id, 1)))
    assert short.value.details["lines"] == [
        {"variant_id": red_l.id, "name": "Áo thun cotton basic", "wanted": 1, "available": 0,
         "seen_price": None, "price": None},
    ]  # fmt: skip
    # The failed checkout took nothing (its transaction rolled back).
    assert await stock_of(runtime, ws, product.id) == [3, 0, None]
    lines = [CheckoutLine(variant_id=red_m.id, quantity=1, seen_price=120000)]
    with pytest.raises(PriceChanged) as moved:
        async with transaction(runtime.sessions) as session:
            await orders.place_order(session, ws, checkout(lines=lines))
    assert moved.value.details["lines"][0]["price"] == 150000
    with pytest.raises(CheckoutInvalid, match="not a phone number"):
        async with transaction(runtime.sessions) as session:
            await orders.place_order(session, ws, checkout((red_m.id, 1), phone="12345"))
    async with transaction(runtime.sessions) as session:
        await catalog.set_status(session, ws, product.id, "draft")
    with pytest.raises(NotForSale):
        async with transaction(runtime.sessions) as session:
            await orders.place_order(session, ws, checkout((red_m.id, 1)))
    other = await make_shop(runtime, slug="other")
    with pytest.raises(NotForSale):  # another shop's variant is not for sale here
        async with transaction(runtime.sessions) as session:
            await orders.place_order(session, other.workspace_id, checkout((red_m.id, 1)))


async def test_an_unpaid_payment_link_order_gives_its_stock_back(runtime: Runtime) -> None:
    ws, product = await shop_with_tee(runtime)
    async with transaction(runtime.sessions) as session:
        order = await orders.place_order(
            session, ws, checkout((product.variants[0].id, 3), payment_method="link")
        )
    assert order.reserved_until is not None
    assert await stock_of(runtime, ws, product.id) == [0, 0, None]
    async with transaction(runtime.sessions) as session:
        assert await orders.release_expired(session, now=utcnow()) == []
    async with transaction(runtime.sessions) as session:
        expired = await orders.release_expired(session, now=utcnow() + timedelta(hours=1))
    assert [(c.order.number, c.to_status) for c in expired] == [(1001, "cancelled")]
    assert await stock_of(runtime, ws, product.id) == [3, 0, None]


async def test_two_customers_racing_for_the_last_item_make_one_order(runtime: Runtime) -> None:
    ws = (await make_shop(runtime)).workspace_id
    last = await save(
        runtime, ws,
        tee(option_names=[], variants=[VariantIn(sku="LAST-1", price=500000, stock=1)]),
    )  # fmt: skip
    variant_id = last.variants[0].id
    start = asyncio.Event()

    async def buy(n: int) -> str:
        await start.wait()
        try:
            async with transaction(runtime.sessions) as session:
                await orders.place_order(
                    session, ws, checkout((variant_id, 1), customer_name=f"Khách {n}")
                )
        except AppError as exc:
            return exc.code
        return "ordered"

    racers = [asyncio.create_task(buy(n)) for n in range(8)]
    start.set()
    results = await asyncio.gather(*racers)
    assert sorted(results) == ["ordered"] + ["out_of_stock"] * 7
    assert await stock_of(runtime, ws, last.id) == [0]
    async with runtime.sessions() as session:
        placed = await orders.list_orders(session, ws)
    assert len(placed) == 1 and placed[0].number == 1001


async def test_orders_placed_at_once_get_one_number_each(runtime: Runtime) -> None:
    ws, product = await shop_with_tee(runtime)
    untracked = product.variants[2].id

    async def buy(n: int) -> int:
        async with transaction(runtime.sessions) as session:
            order = await orders.place_order(session, ws, checkout((untracked, n)))
        return order.number

    numbers = await asyncio.gather(*(buy(n) for n in range(1, 7)))
    assert sorted(numbers) == list(range(1001, 1007))


async def test_the_worker_cancels_unpaid_holds(runtime: Runtime) -> None:
    from chatcart.worker.loops import Worker

    ws, product = await shop_with_tee(runtime)
    long_ago = utcnow() - timedelta(hours=2)
    async with transaction(runtime.sessions) as session:
        await orders.place_order(
            session, ws, checkout((product.variants[0].id, 2), payment_method="link"), now=long_ago
        )
    assert await stock_of(runtime, ws, product.id) == [1, 0, None]
    worker = Worker(runtime)
    assert await worker.holds_once() == 1
    assert await worker.holds_once() == 0
    assert await stock_of(runtime, ws, product.id) == [3, 0, None]
