"""The quiz's three picks (occasion, size, budget) and 'you may also like' from
co-purchases before same-category products, never out of stock."""

from __future__ import annotations

from sqlalchemy import select

from chatcart.catalog import service as catalog
from chatcart.catalog.schemas import ProductIn, VariantIn
from chatcart.kit.db import transaction
from chatcart.models import Conversation
from chatcart.orders import service as orders
from chatcart.orders.schemas import Checkout, CheckoutLine
from chatcart.runtime import Runtime
from chatcart.shop import recommend
from chatcart.shop import service as shop
from chatcart.shop.schemas import ChatPlace
from tests.helpers.factory import make_shop
from tests.shop.chat import Customer


def _product(name: str, size: str, price: int, stock: int, tags: list[str]) -> ProductIn:
    return ProductIn(
        name=name,
        currency="VND",
        option_names=["Size"],
        categories=["Áo"],
        tags=tags,
        description=" ".join(tags),
        variants=[VariantIn(sku=name, option_values=[size], price=price, stock=stock)],
    )


async def test_the_quiz_picks_by_occasion_size_and_budget(runtime: Runtime) -> None:
    made = await make_shop(runtime)
    await Customer(runtime, made).say("xin chào")
    async with runtime.sessions() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
    async with transaction(runtime.sessions) as session:
        for name, size, price, stock in [
            ("Áo sơ mi công sở trắng", "M", 350000, 4),
            ("Áo sơ mi công sở xanh", "M", 650000, 4),  # over budget
            ("Áo blazer công sở", "L", 450000, 4),  # not in M
            ("Áo sơ mi công sở kẻ", "M", 300000, 0),  # sold out
            ("Áo thun dạo phố", "M", 150000, 4),  # another occasion
        ]:
            await catalog.save_product(
                session, made.workspace_id, _product(name, size, price, stock, [])
            )
        place = ChatPlace(
            workspace_id=made.workspace_id,
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            channel="webchat",
        )
        [picks] = await shop.act(
            session, place, "quiz", args={"occasion": "công sở", "size": "M", "budget": "500000"}
        )
    assert picks.text == "Shop chọn cho bạn 3 mẫu:"
    assert [c.title for c in picks.cards] == ["Áo sơ mi công sở trắng"]


async def test_you_may_also_like_prefers_what_was_bought_together(runtime: Runtime) -> None:
    made = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        ids = {}
        for name, stock in [("Quần jean", 5), ("Áo thun", 5), ("Nón", 5), ("Áo khoác", 0)]:
            saved = await catalog.save_product(
                session, made.workspace_id, _product(name, "M", 100000, stock, [])
            )
            ids[name] = saved.product
        lines = [
            CheckoutLine(variant_id=ids[n].variants[0].id, quantity=1) for n in ("Quần jean", "Nón")
        ]
        await orders.place_order(
            session,
            made.workspace_id,
            Checkout(lines=lines, customer_name="An", phone="0912345678", address="12 Lê Lợi, Q1"),
        )
        picks = await recommend.also_like(session, made.workspace_id, [ids["Quần jean"].id])
    # Bought together first, then the same category; the sold-out jacket never.
    assert [c.name for c in picks] == ["Nón", "Áo thun"]
