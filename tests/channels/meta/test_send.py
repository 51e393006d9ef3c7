"""Send API request bodies, checked on the wire against a local recording Graph API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import web

from chatcart.channels.base import (
    AccountRef,
    Attachment,
    Button,
    Card,
    MessageContent,
    OutboundEnvelope,
    QuickReply,
    Receipt,
    ReceiptItem,
    SendError,
)
from chatcart.channels.instagram.adapter import InstagramAdapter
from chatcart.channels.messenger.adapter import MessengerAdapter
from tests.channels.meta.support import (
    IG_PAGE_ID,
    PAGE_ID,
    PAGE_TOKEN,
    VERSION,
    FakeGraph,
    Reply,
    serve,
)

PSID = "6873412290051234"
KEY = "out:42:1"


def envelope(content: MessageContent, **extra: object) -> OutboundEnvelope:
    return OutboundEnvelope.model_validate(
        {"idempotency_key": KEY, "recipient_id": PSID, "content": content} | extra
    )


async def test_text_request_path_token_and_body(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    result = await messenger.send(
        page_account, envelope(MessageContent(text="Dạ shop còn size M ạ"))
    )
    (request,) = graph.requests
    assert request.method == "POST"
    assert request.path == f"/{VERSION}/{PAGE_ID}/messages"
    assert request.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert "access_token" not in request.query  # the token stays out of URLs and logs
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Dạ shop còn size M ạ", "metadata": KEY},
    }
    assert result.external_id == "m_sent_1"
    assert result.response == {"recipient_id": PSID, "message_id": "m_sent_1"}


async def test_quick_replies(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    content = MessageContent(
        text="Bạn chọn size nào?",
        quick_replies=[QuickReply(title=s, payload=f"SIZE_{s}") for s in ("S", "M", "L")],
    )
    await messenger.send(page_account, envelope(content))
    assert graph.requests[0].body["message"] == {
        "text": "Bạn chọn size nào?",
        "quick_replies": [
            {"content_type": "text", "title": "S", "payload": "SIZE_S"},
            {"content_type": "text", "title": "M", "payload": "SIZE_M"},
            {"content_type": "text", "title": "L", "payload": "SIZE_L"},
        ],
        "metadata": KEY,
    }


async def test_buttons_make_one_button_template_carrying_the_text(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    content = MessageContent(
        text="Áo thun cotton 150.000đ",
        buttons=[
            Button(title="Mua ngay", payload="BUY:sku-1"),
            Button(title="Xem web", url="https://shop.test/p/1"),
            Button(title="Gọi shop", phone_number="+84912345678"),
        ],
    )
    await messenger.send(page_account, envelope(content))
    (request,) = graph.requests
    assert request.body["message"] == {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": "Áo thun cotton 150.000đ",
                "buttons": [
                    {"type": "postback", "title": "Mua ngay", "payload": "BUY:sku-1"},
                    {"type": "web_url", "title": "Xem web", "url": "https://shop.test/p/1"},
                    {"type": "phone_number", "title": "Gọi shop", "payload": "+84912345678"},
                ],
            },
        },
        "metadata": KEY,
    }


async def test_long_text_with_buttons_is_split_at_a_line_break(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    head = "Chính sách đổi trả: " + "x" * 700
    tail = "Bạn muốn đặt không?"
    content = MessageContent(text=f"{head}\n{tail}", buttons=[Button(title="Đặt", payload="BUY")])
    result = await messenger.send(page_account, envelope(content))
    first, second = (r.body["message"] for r in graph.requests)
    assert first == {"text": head, "metadata": KEY}
    assert second["attachment"]["payload"]["text"] == tail
    assert result.external_id == "m_sent_2"


async def test_text_then_attachment_as_two_sends(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    content = MessageContent(
        text="Ảnh thật sản phẩm nè",
        attachments=[Attachment(kind="image", url="https://cdn.shop.test/ao-do.jpg")],
        quick_replies=[QuickReply(title="Đặt hàng", payload="ORDER")],
    )
    result = await messenger.send(page_account, envelope(content))
    assert [r.body["message"] for r in graph.requests] == [
        {"text": "Ảnh thật sản phẩm nè", "metadata": KEY},
        {
            "attachment": {
                "type": "image",
                "payload": {"url": "https://cdn.shop.test/ao-do.jpg", "is_reusable": True},
            },
            "quick_replies": [{"content_type": "text", "title": "Đặt hàng", "payload": "ORDER"}],
            "metadata": KEY,
        },
    ]
    assert result.external_id == "m_sent_2"  # the last message's id
    assert [p["message_id"] for p in result.response["parts"]] == ["m_sent_1", "m_sent_2"]


@pytest.mark.parametrize("kind", ["video", "audio", "file"])
async def test_media_attachments(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef, kind: str
) -> None:
    url = f"https://cdn.shop.test/{kind}.bin"
    content = MessageContent(attachments=[Attachment(kind=kind, url=url)])
    await messenger.send(page_account, envelope(content))
    (request,) = graph.requests
    assert request.body["message"]["attachment"] == {
        "type": kind,
        "payload": {"url": url, "is_reusable": True},
    }


async def test_cards_make_a_generic_template(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    content = MessageContent(
        text="Mẫu mới về:",
        cards=[
            Card(
                title="Áo thun đỏ",
                subtitle="150.000đ",
                image_url="https://cdn.shop.test/do.jpg",
                url="https://shop.test/p/do",
                buttons=[Button(title="Mua", payload="BUY:do")],
            ),
            Card(title="Áo thun xanh", subtitle="160.000đ"),
        ],
    )
    await messenger.send(page_account, envelope(content))
    text, cards = (r.body["message"] for r in graph.requests)
    assert text == {"text": "Mẫu mới về:", "metadata": KEY}
    assert cards == {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "generic",
                "elements": [
                    {
                        "title": "Áo thun đỏ",
                        "subtitle": "150.000đ",
                        "image_url": "https://cdn.shop.test/do.jpg",
                        "default_action": {"type": "web_url", "url": "https://shop.test/p/do"},
                        "buttons": [{"type": "postback", "title": "Mua", "payload": "BUY:do"}],
                    },
                    {"title": "Áo thun xanh", "subtitle": "160.000đ"},
                ],
            },
        },
        "metadata": KEY,
    }


def _receipt(currency: str, price: int, shipping: int, total: int) -> Receipt:
    return Receipt(
        recipient_name="Nguyễn Thị Lan",
        order_number="DH-2026-0042",
        currency=currency,
        payment_method="COD",
        items=[ReceiptItem(title="Áo thun", subtitle="Size M", quantity=2, price=price)],
        subtotal=price * 2,
        shipping_cost=shipping,
        total_cost=total,
        address={
            "street_1": "12 Lê Lợi",
            "city": "Hồ Chí Minh",
            "postal_code": "700000",
            "state": "Quận 1",
            "country": "VN",
        },
        timestamp=datetime(2026, 1, 1, 7, 0, tzinfo=UTC),
    )


async def test_receipt_in_vnd_has_no_decimals(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    content = MessageContent(receipt=_receipt("VND", 150000, 30000, 330000))
    await messenger.send(page_account, envelope(content))
    payload = graph.requests[0].body["message"]["attachment"]["payload"]
    assert payload == {
        "template_type": "receipt",
        "recipient_name": "Nguyễn Thị Lan",
        "order_number": "DH-2026-0042",
        "currency": "VND",
        "payment_method": "COD",
        "summary": {
            "subtotal": 300000,
            "shipping_cost": 30000,
            "total_tax": 0,
            "total_cost": 330000,
        },
        "elements": [
            {
                "title": "Áo thun",
                "quantity": 2,
                "price": 300000,  # the line: 2 × 150000
                "currency": "VND",
                "subtitle": "Size M",
            }
        ],
        "address": {
            "street_1": "12 Lê Lợi",
            "city": "Hồ Chí Minh",
            "postal_code": "700000",
            "state": "Quận 1",
            "country": "VN",
        },
        "timestamp": "1767250800",
    }


async def test_receipt_in_php_has_two_decimals(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    content = MessageContent(receipt=_receipt("PHP", 62500, 9950, 134950))
    await messenger.send(page_account, envelope(content))
    payload = graph.requests[0].body["message"]["attachment"]["payload"]
    assert payload["summary"] == {
        "subtotal": 1250.00,
        "shipping_cost": 99.50,
        "total_tax": 0.0,
        "total_cost": 1349.50,
    }
    assert payload["elements"][0]["price"] == 1250.00


async def test_tag_and_messaging_type_from_the_envelope(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    await messenger.send(
        page_account,
        envelope(
            MessageContent(text="Dạ em kiểm tra rồi ạ"),
            messaging_type="MESSAGE_TAG",
            tag="HUMAN_AGENT",
        ),
    )
    body = graph.requests[0].body
    assert body["messaging_type"] == "MESSAGE_TAG"
    assert body["tag"] == "HUMAN_AGENT"
    await messenger.send(page_account, envelope(MessageContent(text="x"), messaging_type="UPDATE"))
    assert "tag" not in graph.requests[1].body


async def test_sender_action_is_sent_alone(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    graph.answer(Reply(body={"recipient_id": PSID}))
    result = await messenger.send(
        page_account, envelope(MessageContent(text="ignored"), sender_action="typing_on")
    )
    assert graph.requests[0].body == {"recipient": {"id": PSID}, "sender_action": "typing_on"}
    assert result.external_id == ""


@pytest.mark.parametrize(
    "kind", ["comment_id", "post_id", "notification_messages_token", "user_ref"]
)
async def test_recipient_kinds(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef, kind: str
) -> None:
    await messenger.send(
        page_account,
        envelope(MessageContent(text="Shop inbox bạn nhé"), recipient_kind=kind),
    )
    assert graph.requests[0].body["recipient"] == {kind: PSID}


async def test_one_shot_recipients_refuse_multi_part_content_before_sending(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    content = MessageContent(
        text="Giá 150k nè",
        attachments=[Attachment(kind="image", url="https://cdn.shop.test/a.jpg")],
    )
    with pytest.raises(SendError) as caught:
        await messenger.send(page_account, envelope(content, recipient_kind="comment_id"))
    assert caught.value.outcome == "failed"
    assert caught.value.code == "content/one_message_only"
    assert graph.requests == []


async def test_metadata_is_cut_to_1000_chars(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    long_key = "k" * 1200
    await messenger.send(
        page_account,
        OutboundEnvelope(
            idempotency_key=long_key, recipient_id=PSID, content=MessageContent(text="hi")
        ),
    )
    assert graph.requests[0].body["message"]["metadata"] == "k" * 1000


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (MessageContent(), "content/empty"),
        (MessageContent(quick_replies=[QuickReply(title="A", payload="A")]), "content/empty"),
        (MessageContent(buttons=[Button(title="A", payload="A")]), "content/button_text"),
        (MessageContent(text="x", buttons=[Button(title="A")]), "content/button"),
        (MessageContent(attachments=[Attachment(kind="image")]), "content/attachment_url"),
    ],
)
async def test_content_meta_cannot_take_fails_without_a_request(
    graph: FakeGraph,
    messenger: MessengerAdapter,
    page_account: AccountRef,
    content: MessageContent,
    code: str,
) -> None:
    with pytest.raises(SendError) as caught:
        await messenger.send(page_account, envelope(content))
    assert (caught.value.outcome, caught.value.code) == ("failed", code)
    assert graph.requests == []


async def test_location_goes_out_as_a_map_link(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    content = MessageContent(
        attachments=[
            Attachment(kind="location", name="Shop", latitude=10.77653, longitude=106.700981)
        ]
    )
    await messenger.send(page_account, envelope(content))
    assert graph.requests[0].body["message"]["text"] == (
        "Shop\nhttps://maps.google.com/?q=10.77653,106.700981"
    )


async def test_missing_token_is_reauth(graph: FakeGraph, messenger: MessengerAdapter) -> None:
    account = AccountRef(id=9, kind="messenger", external_id=PAGE_ID)
    with pytest.raises(SendError) as caught:
        await messenger.send(account, envelope(MessageContent(text="hi")))
    assert caught.value.outcome == "reauth"
    assert graph.requests == []


async def test_partial_send_names_what_went_out(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    graph.answer(
        Reply(body={"recipient_id": PSID, "message_id": "m_text"}),
        Reply(status=500, body={"error": {"message": "An unknown error", "code": 2}}),
    )
    content = MessageContent(
        text="Ảnh nè", attachments=[Attachment(kind="image", url="https://cdn.shop.test/a.jpg")]
    )
    with pytest.raises(SendError) as caught:
        await messenger.send(page_account, envelope(content))
    assert caught.value.outcome == "retry"
    assert caught.value.response["sent_message_ids"] == ["m_text"]


async def test_instagram_sends_through_the_linked_page(
    graph: FakeGraph, instagram: InstagramAdapter, ig_account: AccountRef
) -> None:
    await instagram.send(ig_account, envelope(MessageContent(text="Dạ còn màu đen ạ")))
    (request,) = graph.requests
    assert request.path == f"/{VERSION}/{IG_PAGE_ID}/messages"
    assert request.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert request.body["recipient"] == {"id": PSID}


async def test_instagram_without_page_id_is_reauth(
    graph: FakeGraph, instagram: InstagramAdapter, ig_account: AccountRef
) -> None:
    account = ig_account.model_copy(update={"settings": {}})
    with pytest.raises(SendError) as caught:
        await instagram.send(account, envelope(MessageContent(text="hi")))
    assert (caught.value.outcome, caught.value.code) == ("reauth", "no_page_id")
    assert graph.requests == []


async def test_base_url_with_a_path_prefix_keeps_it(page_account: AccountRef) -> None:
    fake = FakeGraph()
    inner = web.Application()
    inner.router.add_route("*", "/{tail:.*}", fake.handle)
    outer = web.Application()
    outer.add_subapp("/graph/", inner)
    runner, port = await serve(outer)
    adapter = MessengerAdapter(f"http://127.0.0.1:{port}/graph", VERSION)
    try:
        await adapter.send(page_account, envelope(MessageContent(text="hi")))
    finally:
        await adapter.aclose()
        await runner.cleanup()
    assert fake.requests[0].path == f"/graph/{VERSION}/{PAGE_ID}/messages"
