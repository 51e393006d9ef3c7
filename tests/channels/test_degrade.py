from __future__ import annotations

import pytest

from chatcart.channels.base import Attachment, Button, Capabilities, MessageContent, QuickReply
from chatcart.channels.degrade import degrade

FULL = Capabilities(max_text_chars=2000, quick_replies=13, buttons=3, attachments=True)
TEXT_ONLY = Capabilities(max_text_chars=2000, quick_replies=0, buttons=0, attachments=False)


def test_content_the_channel_can_show_is_untouched() -> None:
    content = MessageContent(
        text="Chào bạn",
        attachments=[Attachment(kind="image", url="https://cdn.test/a.jpg")],
        quick_replies=[QuickReply(title="Xem sản phẩm", payload="PRODUCTS")],
        buttons=[
            Button(title="Mua", payload="BUY"),
            Button(title="Web", url="https://shop.test"),
        ],
    )
    assert degrade(content, FULL) == content


def test_buttons_beyond_capability_become_numbered_list() -> None:
    content = MessageContent(
        text="Chọn một:",
        buttons=[
            Button(title="Mua ngay", payload="BUY"),
            Button(title="Xem web", url="https://shop.test/p/1"),
        ],
    )
    caps = Capabilities(max_text_chars=2000, quick_replies=13, buttons=1, attachments=True)
    result = degrade(content, caps)
    assert result.buttons == []
    assert result.text == "Chọn một:\n1. Mua ngay\n2. Xem web (https://shop.test/p/1)"


def test_buttons_list_without_text() -> None:
    content = MessageContent(buttons=[Button(title="A", payload="A"), Button(title="B")])
    result = degrade(content, TEXT_ONLY)
    assert result.text == "1. A\n2. B"
    assert result.buttons == []


def test_quick_replies_beyond_capability_are_numbered_after_buttons() -> None:
    content = MessageContent(
        text="Bạn cần gì?",
        buttons=[Button(title="Web", url="https://shop.test")],
        quick_replies=[
            QuickReply(title="Xem sản phẩm", payload="PRODUCTS"),
            QuickReply(title="Gặp nhân viên", payload="HUMAN"),
        ],
    )
    result = degrade(content, TEXT_ONLY)
    assert result.quick_replies == []
    assert result.buttons == []
    assert result.text == (
        "Bạn cần gì?\n1. Web (https://shop.test)\n2. Xem sản phẩm\n3. Gặp nhân viên"
    )


def test_quick_replies_within_capability_are_kept_while_buttons_degrade() -> None:
    quick = [QuickReply(title="Có", payload="YES"), QuickReply(title="Không", payload="NO")]
    content = MessageContent(text="OK?", quick_replies=quick, buttons=[Button(title="X")])
    caps = Capabilities(max_text_chars=2000, quick_replies=2, buttons=0, attachments=True)
    result = degrade(content, caps)
    assert result.quick_replies == quick
    assert result.text == "OK?\n1. X"


def test_too_many_quick_replies_are_numbered() -> None:
    quick = [QuickReply(title=f"Q{i}", payload=str(i)) for i in range(1, 4)]
    caps = Capabilities(max_text_chars=2000, quick_replies=2, buttons=3, attachments=True)
    result = degrade(MessageContent(text="Pick", quick_replies=quick), caps)
    assert result.quick_replies == []
    assert result.text == "Pick\n1. Q1\n2. Q2\n3. Q3"


@pytest.mark.parametrize("limit", [5, 20, 100])
def test_long_text_is_truncated_to_exactly_the_limit(limit: int) -> None:
    caps = Capabilities(max_text_chars=limit, quick_replies=0, buttons=0, attachments=True)
    text = "Đặt hàng " * 50
    result = degrade(MessageContent(text=text), caps)
    assert len(result.text) == limit
    assert result.text.endswith("…")
    assert result.text[:-1] == text[: limit - 1]


def test_text_at_the_limit_is_not_truncated() -> None:
    caps = Capabilities(max_text_chars=10, quick_replies=0, buttons=0, attachments=True)
    assert degrade(MessageContent(text="x" * 10), caps).text == "x" * 10


def test_attachments_become_urls_when_unsupported() -> None:
    content = MessageContent(
        text="Ảnh sản phẩm",
        attachments=[
            Attachment(kind="image", url="https://cdn.test/a.jpg"),
            Attachment(kind="location", latitude=10.77, longitude=106.7),  # no URL: dropped
            Attachment(kind="file", url="https://cdn.test/b.pdf"),
        ],
    )
    result = degrade(content, TEXT_ONLY)
    assert result.attachments == []
    assert result.text == "Ảnh sản phẩm\nhttps://cdn.test/a.jpg\nhttps://cdn.test/b.pdf"


def test_attachment_only_message_becomes_url_text() -> None:
    content = MessageContent(attachments=[Attachment(kind="image", url="https://cdn.test/a.jpg")])
    result = degrade(content, TEXT_ONLY)
    assert result.attachments == []
    assert result.text == "https://cdn.test/a.jpg"


def test_input_is_not_mutated() -> None:
    content = MessageContent(text="Hi", buttons=[Button(title="A"), Button(title="B")])
    snapshot = content.model_copy(deep=True)
    degrade(content, TEXT_ONLY)
    assert content == snapshot


def test_text_with_attachment_urls_stays_within_limit() -> None:
    caps = Capabilities(max_text_chars=20, quick_replies=0, buttons=0, attachments=False)
    content = MessageContent(
        text="a" * 50, attachments=[Attachment(kind="image", url="https://cdn.test/a.jpg")]
    )
    assert len(degrade(content, caps).text) <= 20


def test_attachment_links_are_kept_whole_when_text_is_cut() -> None:
    caps = Capabilities(max_text_chars=30, quick_replies=0, buttons=0, attachments=False)
    url = "https://cdn.test/a.jpg"
    out = degrade(
        MessageContent(text="a" * 50, attachments=[Attachment(kind="image", url=url)]), caps
    )
    assert out.text.endswith("…\n" + url)
    assert len(out.text) == 30


def test_cards_and_receipts_become_text_where_the_channel_has_no_template() -> None:
    from chatcart.channels.base import Card, Receipt, ReceiptItem

    content = MessageContent(
        text="Gợi ý cho bạn:",
        cards=[
            Card(
                title="Áo thun basic",
                subtitle="150.000 ₫",
                url="https://shop.test/ao",
                buttons=[Button(title="Chọn", payload="PICK:1")],
            ),
            Card(title="Áo sơ mi linen", buttons=[Button(title="Chọn", payload="PICK:2")]),
        ],
        receipt=Receipt(
            recipient_name="Lan",
            order_number="1001",
            currency="VND",
            payment_method="COD",
            items=[ReceiptItem(title="Áo thun basic", quantity=2, price=150_000)],
            subtotal=300_000,
            shipping_cost=30_000,
            total_cost=330_000,
        ),
    )
    caps = Capabilities(max_text_chars=2000, quick_replies=13, buttons=3, attachments=True)
    out = degrade(content, caps)
    assert out.cards == []
    assert out.receipt is None
    assert out.buttons == []
    assert "#1001 — Lan" in out.text
    assert "2 × Áo thun basic: 300.000\xa0₫" in out.text
    assert "= 330.000\xa0₫ (COD)" in out.text
    assert "• Áo thun basic — 150.000 ₫\n  https://shop.test/ao" in out.text
    assert "1. Chọn\n2. Chọn" in out.text

    rich = Capabilities(2000, 13, 3, True, cards=10, receipt=True)
    assert degrade(content, rich) == content
