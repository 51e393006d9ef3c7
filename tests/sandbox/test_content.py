"""Content limits at the limit and one over (platforms.md 2.1, 3; checklist 2.11 #4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chatcart.sandbox.graph import GraphState
from tests.sandbox.helpers import IG, IG_TOKEN, IGSID, PSID, error_of, send

Message = dict[str, Any]


def body(message: Message, psid: str = PSID) -> dict[str, Any]:
    return {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message}


async def accepted(client: httpx.AsyncClient, message: Message) -> bool:
    response = await send(client, body(message))
    if response.status_code == 200:
        return True
    assert error_of(response)["code"] == 100, response.text
    return False


async def accepted_ig(client: httpx.AsyncClient, message: Message) -> bool:
    response = await send(client, body(message, IGSID), token=IG_TOKEN, node=IG)
    if response.status_code == 200:
        return True
    assert error_of(response)["code"] == 100, response.text
    return False


def qr(n: int) -> list[dict[str, str]]:
    return [{"content_type": "text", "title": f"Size {i}", "payload": f"S{i}"} for i in range(n)]


def postback(i: int = 0) -> dict[str, str]:
    return {"type": "postback", "title": f"Mua {i}", "payload": f"BUY_{i}"}


def generic(elements: list[dict[str, Any]]) -> Message:
    payload = {"template_type": "generic", "elements": elements}
    return {"attachment": {"type": "template", "payload": payload}}


def element(title: str = "Áo thun", **extra: Any) -> dict[str, Any]:
    return {"title": title, "subtitle": "199.000đ"} | extra


def button_template(text: str, n_buttons: int) -> Message:
    payload = {
        "template_type": "button",
        "text": text,
        "buttons": [postback(i) for i in range(n_buttons)],
    }
    return {"attachment": {"type": "template", "payload": payload}}


RECEIPT: dict[str, Any] = {
    "template_type": "receipt",
    "recipient_name": "Nguyễn Lan",
    "order_number": "DH-1001",
    "currency": "VND",
    "payment_method": "COD",
    "elements": [{"title": "Áo thun", "quantity": 2, "price": 199000, "currency": "VND"}],
    "address": {
        "street_1": "12 Lê Lợi",
        "city": "Hồ Chí Minh",
        "postal_code": "700000",
        "state": "HCM",
        "country": "VN",
    },
    "summary": {"subtotal": 398000, "shipping_cost": 30000, "total_cost": 428000},
}


def receipt(**changes: Any) -> Message:
    payload = {k: v for k, v in (RECEIPT | changes).items() if v is not None}
    return {"attachment": {"type": "template", "payload": payload}}


# ---- text ----------------------------------------------------------------------------


async def test_text_2000_ok_2001_rejected(client: httpx.AsyncClient) -> None:
    assert await accepted(client, {"text": "ă" * 2000})
    assert not await accepted(client, {"text": "ă" * 2001})


async def test_instagram_text_1000_ok_1001_rejected(client: httpx.AsyncClient) -> None:
    assert await accepted_ig(client, {"text": "a" * 1000})
    assert not await accepted_ig(client, {"text": "a" * 1001})


@pytest.mark.parametrize(
    "message",
    [
        {},
        {"text": ""},
        {"text": "   "},
        {"text": 5},
        {"text": "x", "attachment": {"type": "image", "payload": {"url": "https://cdn.test/a"}}},
        {"text": "x", "sticker_id": 369239263222822},
        {"text": "x", "unknown": 1},
        {"metadata": "m"},
        "just a string",
    ],
)
async def test_exactly_one_of_text_or_attachment(
    client: httpx.AsyncClient, message: Message
) -> None:
    assert not await accepted(client, message)


async def test_metadata_limit(client: httpx.AsyncClient) -> None:
    assert await accepted(client, {"text": "x", "metadata": "m" * 1000})
    assert not await accepted(client, {"text": "x", "metadata": "m" * 1001})


async def test_sticker_on_messenger_only(client: httpx.AsyncClient) -> None:
    assert await accepted(client, {"sticker_id": 369239263222822})
    assert not await accepted_ig(client, {"sticker_id": 369239263222822})


# ---- quick replies -------------------------------------------------------------------


async def test_13_quick_replies_ok_14_rejected(client: httpx.AsyncClient) -> None:
    assert await accepted(client, {"text": "Chọn size", "quick_replies": qr(13)})
    assert not await accepted(client, {"text": "Chọn size", "quick_replies": qr(14)})


@pytest.mark.parametrize(
    "reply",
    [
        {"content_type": "text", "title": "Đỏ"},
        {"content_type": "text", "payload": "RED"},
        {"content_type": "location"},
        {"content_type": "text", "title": "Đỏ", "payload": "R" * 1001},
        {"content_type": "text", "title": "Đỏ", "payload": "RED", "color": "red"},
    ],
)
async def test_bad_quick_replies(client: httpx.AsyncClient, reply: dict[str, Any]) -> None:
    assert not await accepted(client, {"text": "x", "quick_replies": [reply]})


async def test_empty_quick_replies_rejected(client: httpx.AsyncClient) -> None:
    assert not await accepted(client, {"text": "x", "quick_replies": []})


async def test_phone_and_email_quick_replies(client: httpx.AsyncClient) -> None:
    replies = [{"content_type": "user_phone_number"}, {"content_type": "user_email"}]
    assert await accepted(client, {"text": "Số điện thoại?", "quick_replies": replies})
    assert not await accepted_ig(client, {"text": "Số điện thoại?", "quick_replies": replies})


async def test_instagram_text_quick_replies(client: httpx.AsyncClient) -> None:
    assert await accepted_ig(client, {"text": "Chọn size", "quick_replies": qr(13)})
    assert not await accepted_ig(client, {"text": "Chọn size", "quick_replies": qr(14)})


# ---- media ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["image", "audio", "video", "file"])
async def test_media_by_url_or_attachment_id(client: httpx.AsyncClient, kind: str) -> None:
    by_url = {"type": kind, "payload": {"url": "https://cdn.test/x", "is_reusable": True}}
    by_id = {"type": kind, "payload": {"attachment_id": "1857777774821032"}}
    assert await accepted(client, {"attachment": by_url})
    assert await accepted(client, {"attachment": by_id})


@pytest.mark.parametrize(
    "attachment",
    [
        {"type": "image", "payload": {}},
        {"type": "image", "payload": {"url": "https://a", "attachment_id": "1"}},
        {"type": "image", "payload": {"url": "ftp://cdn.test/x"}},
        {"type": "gif", "payload": {"url": "https://cdn.test/x"}},
        {"type": "image"},
    ],
)
async def test_bad_media(client: httpx.AsyncClient, attachment: dict[str, Any]) -> None:
    assert not await accepted(client, {"attachment": attachment})


# ---- generic template ----------------------------------------------------------------


async def test_generic_10_elements_ok_11_rejected(client: httpx.AsyncClient) -> None:
    assert await accepted(client, generic([element()] * 10))
    assert not await accepted(client, generic([element()] * 11))
    assert not await accepted(client, generic([]))


async def test_generic_title_80_ok_81_rejected(client: httpx.AsyncClient) -> None:
    assert await accepted(client, generic([element("T" * 80)]))
    assert not await accepted(client, generic([element("T" * 81)]))


async def test_generic_subtitle_80_ok_81_rejected(client: httpx.AsyncClient) -> None:
    assert await accepted(client, generic([{"title": "T", "subtitle": "s" * 80}]))
    assert not await accepted(client, generic([{"title": "T", "subtitle": "s" * 81}]))


async def test_generic_needs_title_and_one_more_field(client: httpx.AsyncClient) -> None:
    assert not await accepted(client, generic([{"title": "Áo thun"}]))
    assert not await accepted(client, generic([{"subtitle": "199.000đ"}]))
    for extra in (
        {"image_url": "https://cdn.test/a.jpg"},
        {"default_action": {"type": "web_url", "url": "https://shop.test/p/1"}},
        {"buttons": [postback()]},
    ):
        assert await accepted(client, generic([{"title": "Áo thun"} | extra]))


async def test_generic_3_buttons_ok_4_rejected(client: httpx.AsyncClient) -> None:
    three = [postback(i) for i in range(3)]
    assert await accepted(client, generic([element(buttons=three)]))
    assert not await accepted(client, generic([element(buttons=[*three, postback(3)])]))


async def test_default_action_cannot_have_a_title(client: httpx.AsyncClient) -> None:
    action = {"type": "web_url", "url": "https://shop.test", "title": "Xem"}
    assert not await accepted(client, generic([element(default_action=action)]))


@pytest.mark.parametrize(
    "button",
    [
        {"type": "postback", "title": "Mua"},
        {"type": "postback", "title": "Mua", "payload": "P" * 1001},
        {"type": "web_url", "title": "Web"},
        {"type": "web_url", "title": "Web", "url": "https://x", "webview_height_ratio": "huge"},
        {"type": "phone_number", "title": "Gọi", "payload": "0901234567"},
        {"type": "nested", "title": "Menu"},
        {"type": "postback", "payload": "NO_TITLE"},
    ],
)
async def test_bad_buttons(client: httpx.AsyncClient, button: dict[str, Any]) -> None:
    assert not await accepted(client, generic([element(buttons=[button])]))


@pytest.mark.parametrize(
    "button",
    [
        {
            "type": "web_url",
            "title": "Web",
            "url": "https://shop.test",
            "webview_height_ratio": "tall",
        },
        {"type": "phone_number", "title": "Gọi", "payload": "+84901234567"},
        {"type": "postback", "title": "Mua", "payload": "P" * 1000},
        {"type": "account_link", "url": "https://shop.test/login"},
    ],
)
async def test_good_buttons(client: httpx.AsyncClient, button: dict[str, Any]) -> None:
    assert await accepted(client, generic([element(buttons=[button])]))


# ---- button template -----------------------------------------------------------------


async def test_button_template_text_640_ok_641_rejected(client: httpx.AsyncClient) -> None:
    assert await accepted(client, button_template("x" * 640, 1))
    assert not await accepted(client, button_template("x" * 641, 1))


async def test_button_template_1_to_3_buttons(client: httpx.AsyncClient) -> None:
    assert not await accepted(client, button_template("Chọn", 0))
    assert await accepted(client, button_template("Chọn", 1))
    assert await accepted(client, button_template("Chọn", 3))
    assert not await accepted(client, button_template("Chọn", 4))


# ---- receipt template ----------------------------------------------------------------


async def test_full_receipt_ok(client: httpx.AsyncClient) -> None:
    assert await accepted(client, receipt())


@pytest.mark.parametrize("field", ["recipient_name", "order_number", "currency", "payment_method"])
async def test_receipt_required_fields(client: httpx.AsyncClient, field: str) -> None:
    assert not await accepted(client, receipt(**{field: None}))


async def test_receipt_summary_total_cost_required(client: httpx.AsyncClient) -> None:
    assert not await accepted(client, receipt(summary=None))
    assert not await accepted(client, receipt(summary={"subtotal": 1}))
    assert await accepted(client, receipt(summary={"total_cost": 428000}, elements=None))


@pytest.mark.parametrize(
    "changes",
    [
        {"currency": "vnd"},
        {"currency": "ĐỒNG"},
        {"summary": {"total_cost": "428000"}},
        {"elements": [{"title": "Áo", "quantity": 1}]},
        {"elements": [{"price": 1}]},
        {"address": {"street_1": "12 Lê Lợi", "city": "HCM"}},
    ],
)
async def test_bad_receipts(client: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    assert not await accepted(client, receipt(**changes))


async def test_instagram_has_no_receipt_template(client: httpx.AsyncClient) -> None:
    assert not await accepted_ig(client, receipt())
    assert await accepted_ig(client, generic([element()]))


# ---- other templates -----------------------------------------------------------------


async def test_media_template(client: httpx.AsyncClient) -> None:
    el = {"media_type": "video", "url": "https://www.facebook.com/shop/videos/1"}
    ok = {
        "attachment": {"type": "template", "payload": {"template_type": "media", "elements": [el]}}
    }
    two = {
        "attachment": {
            "type": "template",
            "payload": {"template_type": "media", "elements": [el, el]},
        }
    }
    assert await accepted(client, ok)
    assert not await accepted(client, two)


@pytest.mark.parametrize("template_type", ["one_time_notif_req", "list", "mystery"])
async def test_retired_or_unknown_templates(client: httpx.AsyncClient, template_type: str) -> None:
    message = {
        "attachment": {
            "type": "template",
            "payload": {"template_type": template_type, "title": "t"},
        }
    }
    assert not await accepted(client, message)


async def test_audio_and_video_use_the_media_bucket(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.monotonic = lambda: 0.0  # time stands still: no refill
    state.rates = type(state.rates)(text_per_second=100, media_per_second=1)
    video = {"attachment": {"type": "video", "payload": {"url": "https://cdn.test/v.mp4"}}}
    image = {"attachment": {"type": "image", "payload": {"url": "https://cdn.test/i.jpg"}}}
    assert await accepted(client, video)
    assert error_of(await send(client, body(video)))["code"] == 613
    assert await accepted(client, image)
