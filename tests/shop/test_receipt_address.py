"""A chat address split for Messenger's receipt template; without a postal code there is
none to send, and the confirmation question says where the order goes instead."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chatcart.kit.db import transaction
from chatcart.models import Conversation
from chatcart.runtime import Runtime
from chatcart.shop import checkout
from chatcart.shop import service as shop
from chatcart.shop.address import receipt_address
from chatcart.shop.schemas import CartLine, ChatPlace, ChatState
from tests.helpers.factory import make_shop
from tests.shop.chat import Customer, add_tee


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        (
            "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh 700000",
            "VN",
            {"street_1": "12 Lê Lợi", "street_2": "Phường Bến Nghé", "city": "Quận 1",
             "state": "TP Hồ Chí Minh", "postal_code": "700000", "country": "VN"},
        ),
        (
            "25 Hàng Bạc, Hà Nội, 10000",
            "VN",
            {"street_1": "25 Hàng Bạc", "city": "Hà Nội", "state": "Hà Nội",
             "postal_code": "10000", "country": "VN"},
        ),
        (
            "123 Rizal Ave, Brgy. San Antonio, Makati City, Metro Manila 1203",
            "ph",
            {"street_1": "123 Rizal Ave", "street_2": "Brgy. San Antonio", "city": "Makati City",
             "state": "Metro Manila", "postal_code": "1203", "country": "PH"},
        ),
        ("12 Lê Lợi, Quận 1, TP Hồ Chí Minh", "VN", None),  # no postal code
        ("1234 Nguyễn Trãi", "VN", None),  # one part: a house number is no postal code
        ("12 Lê Lợi, 700000", "VN", None),  # nothing left for the city
    ],
)  # fmt: skip
def test_receipt_address(text: str, country: str, expected: dict[str, str] | None) -> None:
    assert receipt_address(text, country) == expected


async def test_on_messenger_the_question_says_the_address_the_receipt_could_not_carry(
    runtime: Runtime,
) -> None:
    made = await make_shop(runtime)
    tee = await add_tee(runtime, made.workspace_id)
    await Customer(runtime, made).say("xin chào")  # a conversation to chat in
    async with runtime.sessions() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None
    place = ChatPlace(
        workspace_id=made.workspace_id,
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        channel="messenger",
    )
    line = CartLine(
        variant_id=tee["variants"]["M"], product_id=tee["id"], quantity=1, price=150000,
        currency="VND", name="Áo thun basic", title="M",
    )  # fmt: skip
    for address, told in (
        ("12 Lê Lợi, Quận 1, TP Hồ Chí Minh", True),
        ("12 Lê Lợi, Quận 1, TP Hồ Chí Minh 700000", False),
    ):
        state = ChatState(lines=[line], name="An", phone="+84912345678", address=address)
        async with transaction(runtime.sessions) as session:
            settings = await shop.settings_of(session, made.workspace_id)
            summary, question = await checkout.review(session, place, settings, state)
        assert summary.receipt is not None
        assert (summary.receipt.address is None) is told
        assert question.text.startswith(f"Giao đến: {address}\n") is told
        assert question.text.endswith("Bạn xác nhận đặt đơn này nhé?")
