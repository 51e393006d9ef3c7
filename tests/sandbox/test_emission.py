"""Webhook emission: envelope shapes, exact-bytes signatures, ms timestamps, batches,
duplicates, window effects (platforms.md 1.4, 2.2, 2.4, 2.5, 2.6, 3)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatcart.sandbox.graph import GraphState
from tests.sandbox.helpers import (
    IG,
    IG_TOKEN,
    IGSID,
    NOW,
    PAGE,
    PSID,
    SECRET,
    Received,
    Receiver,
    error_of,
    send,
    text,
)

NOW_MS = int(NOW.timestamp() * 1000)


def verify(request: Received, secret: str = SECRET) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected)


def only_event(request: Received) -> dict[str, Any]:
    body = json.loads(request.body)
    [entry] = body["entry"]
    [event] = entry["messaging"]
    assert entry["time"] == event["timestamp"]
    return dict(event)


async def test_message_shape_and_signature(hooked: GraphState, receiver: Receiver) -> None:
    emission = await hooked.user_says(PAGE, PSID, "Áo này còn size M không? https://shop.vn/a")
    assert emission.status == 200
    [request] = receiver.requests
    assert request.body == emission.body
    assert verify(request)
    assert request.headers["content-type"] == "application/json"
    sha1 = hmac.new(SECRET.encode(), request.body, hashlib.sha1).hexdigest()
    assert request.headers["x-hub-signature"] == f"sha1={sha1}"
    body = json.loads(request.body)
    assert body == {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": NOW_MS,
                "messaging": [
                    {
                        "sender": {"id": PSID},
                        "recipient": {"id": PAGE},
                        "timestamp": NOW_MS,
                        "message": {
                            "mid": emission.mid,
                            "text": "Áo này còn size M không? https://shop.vn/a",
                        },
                    }
                ],
            }
        ],
    }


async def test_bytes_are_escaped_like_meta_so_reencoding_breaks_the_hmac(
    hooked: GraphState, receiver: Receiver
) -> None:
    await hooked.user_says(PAGE, PSID, "Đặt hàng https://m.me/shop")
    [request] = receiver.requests
    assert b"\\u0110\\u1eb7t h\\u00e0ng" in request.body
    assert b"https:\\/\\/m.me\\/shop" in request.body
    assert request.body.isascii()
    reencoded = json.dumps(json.loads(request.body), ensure_ascii=False).encode()
    expected = "sha256=" + hmac.new(SECRET.encode(), reencoded, hashlib.sha256).hexdigest()
    assert request.headers["x-hub-signature-256"] != expected


async def test_timestamps_are_epoch_milliseconds(hooked: GraphState, receiver: Receiver) -> None:
    hooked.clock.set(NOW + timedelta(milliseconds=1234))
    await hooked.user_says(PAGE, PSID, "hi")
    event = only_event(receiver.requests[0])
    assert event["timestamp"] == NOW_MS + 1234
    assert len(str(event["timestamp"])) == 13


async def test_bad_and_missing_signature(hooked: GraphState, receiver: Receiver) -> None:
    await hooked.user_says(PAGE, PSID, "a", bad_signature=True)
    await hooked.user_says(PAGE, PSID, "b", no_signature=True)
    bad, missing = receiver.requests
    assert bad.headers["x-hub-signature-256"].startswith("sha256=")
    assert not verify(bad)
    assert "x-hub-signature-256" not in missing.headers
    assert "x-hub-signature" not in missing.headers


async def test_duplicates_are_the_same_bytes(hooked: GraphState, receiver: Receiver) -> None:
    emission = await hooked.user_says(PAGE, PSID, "hi", duplicate=3)
    assert emission.statuses == [200, 200, 200]
    assert [r.body for r in receiver.requests] == [emission.body] * 3
    assert all(verify(r) for r in receiver.requests)


async def test_batch_sends_several_entries_in_one_post(
    hooked: GraphState, receiver: Receiver
) -> None:
    emission = await hooked.batch(
        [
            hooked.build.user_says(PAGE, PSID, "một"),
            hooked.build.user_says(PAGE, "7002", "hai", "QR_TWO"),
            hooked.build.user_postback(PAGE, PSID, "MENU", "Menu"),
        ]
    )
    [request] = receiver.requests
    assert verify(request)
    body = json.loads(request.body)
    assert [e["messaging"][0]["sender"]["id"] for e in body["entry"]] == [PSID, "7002", PSID]
    assert body["entry"][1]["messaging"][0]["message"]["quick_reply"] == {"payload": "QR_TWO"}
    assert len(emission.refs) == 3


async def test_batch_must_share_the_callback(hooked: GraphState) -> None:
    hooked.accounts[IG].callback_url = "http://127.0.0.1:9/other"
    events = [hooked.build.user_says(PAGE, PSID, "a"), hooked.build.user_says(IG, IGSID, "b")]
    with pytest.raises(ValueError, match="share"):
        await hooked.batch(events)


async def test_status_and_unreachable_callback(hooked: GraphState, receiver: Receiver) -> None:
    receiver.status = 403
    assert (await hooked.user_says(PAGE, PSID, "x")).status == 403
    hooked.accounts[PAGE].callback_url = "http://127.0.0.1:9/closed"
    emission = await hooked.user_says(PAGE, PSID, "x")
    assert emission.status is None
    assert emission.deliveries[0].error


async def test_quick_reply_tap(hooked: GraphState, receiver: Receiver) -> None:
    await hooked.user_says(PAGE, PSID, "Đỏ", quick_reply_payload="COLOR_RED")
    message = only_event(receiver.requests[0])["message"]
    assert message["quick_reply"] == {"payload": "COLOR_RED"}
    assert message["text"] == "Đỏ"


async def test_get_started_postback_with_referral(hooked: GraphState, receiver: Receiver) -> None:
    emission = await hooked.user_postback(PAGE, "7500", "GET_STARTED", "Get Started", "summer")
    event = only_event(receiver.requests[0])
    assert event["postback"] == {
        "mid": emission.mid,
        "title": "Get Started",
        "payload": "GET_STARTED",
        "referral": {"ref": "summer", "source": "SHORTLINK", "type": "OPEN_THREAD"},
    }


async def test_ref_link_into_existing_and_new_threads(
    hooked: GraphState, receiver: Receiver
) -> None:
    await hooked.user_opens_ref_link(PAGE, PSID, "ad-42")
    await hooked.user_opens_ref_link(PAGE, "7600", "ad-42")
    existing = only_event(receiver.requests[0])
    assert existing["referral"] == {"ref": "ad-42", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    assert "postback" not in existing
    new = only_event(receiver.requests[1])
    assert new["postback"]["payload"] == "GET_STARTED"
    assert new["postback"]["referral"]["ref"] == "ad-42"


async def test_user_actions_open_the_window_comments_and_optins_do_not(
    hooked: GraphState, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    hooked.add_user(PAGE, "7700")
    await hooked.user_comments(PAGE, "555", "giá?", "fb-7700", "Khách")
    await hooked.user_optin_marketing(PAGE, "7700", "WEEKLY", "Deals", "DEALS")
    assert error_of(await send(client, text("7700")))["error_subcode"] == 2018278
    for act in (
        hooked.user_says(PAGE, "7700", "hi"),
        hooked.user_says(PAGE, "7700", "Đỏ", "RED"),
        hooked.user_postback(PAGE, "7700", "MENU", "Menu"),
        hooked.user_opens_ref_link(PAGE, "7700", "r"),
    ):
        hooked.clock.advance(timedelta(hours=25))
        assert error_of(await send(client, text("7700")))["code"] == 10
        await act
        assert (await send(client, text("7700"))).status_code == 200


async def test_feed_comment_shape(hooked: GraphState, receiver: Receiver) -> None:
    emission = await hooked.user_comments(PAGE, "555", "bao nhiêu tiền?", "fb-42", "Trần Minh")
    body = json.loads(receiver.requests[0].body)
    [entry] = body["entry"]
    assert body["object"] == "page"
    assert entry["time"] == int(NOW.timestamp())  # feed changes: seconds (2.6 example)
    [change] = entry["changes"]
    assert change["field"] == "feed"
    value = change["value"]
    assert value["item"] == "comment"
    assert value["verb"] == "add"
    assert value["comment_id"] == emission.comment_id
    assert emission.comment_id is not None
    assert emission.comment_id.startswith("555_")
    assert value["post_id"] == f"{PAGE}_555"
    assert value["parent_id"] == f"{PAGE}_555"
    assert value["from"] == {"id": "fb-42", "name": "Trần Minh"}
    assert value["message"] == "bao nhiêu tiền?"
    assert value["created_time"] == int(NOW.timestamp())
    assert hooked.feed[emission.comment_id].created_at == NOW


async def test_emitted_comment_can_be_private_replied_once(
    hooked: GraphState, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    comment_id = (await hooked.user_comments(PAGE, "555", "giá?", "fb-42", "Minh")).comment_id
    body = {"recipient": {"comment_id": comment_id}, "message": {"text": "Inbox nhé"}}
    assert (await send(client, body)).status_code == 200
    assert error_of(await send(client, body))["code"] == 10900


async def test_visitor_post(hooked: GraphState, receiver: Receiver) -> None:
    emission = await hooked.user_posts(PAGE, "Shop ơi", "fb-9", "Khách")
    value = json.loads(receiver.requests[0].body)["entry"][0]["changes"][0]["value"]
    assert (value["item"], value["post_id"]) == ("post", emission.ref)


async def test_marketing_optin_shape(hooked: GraphState, receiver: Receiver) -> None:
    emission = await hooked.user_optin_marketing(
        PAGE, PSID, "WEEKLY", "Ưu đãi", "DEALS", timezone="Asia/Ho_Chi_Minh"
    )
    optin = only_event(receiver.requests[0])["optin"]
    token = hooked.tokens[optin["notification_messages_token"]]
    assert emission.token == token.token
    assert optin == {
        "type": "notification_messages",
        "payload": "DEALS",
        "notification_messages_token": token.token,
        "notification_messages_frequency": "WEEKLY",
        "notification_messages_timezone": "Asia/Ho_Chi_Minh",
        "token_expiry_timestamp": int(token.expires_at.timestamp() * 1000),
        "user_token_status": "NOT_REFRESHED",
        "title": "Ưu đãi",
    }
    await hooked.user_stops_marketing(token.token)
    stop = only_event(receiver.requests[1])["optin"]
    assert stop["notification_messages_status"] == "STOP_NOTIFICATIONS"
    assert token.status == "STOPPED"


async def test_echo_delivery_read(
    hooked: GraphState, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    message = {"text": "Đơn DH-1 đã xác nhận", "metadata": "order:1"}
    sent = await send(client, text() | {"message": message})
    mid = sent.json()["message_id"]
    await hooked.echo(mid)
    await hooked.delivery(PAGE, PSID)
    await hooked.read(PAGE, PSID)
    echo, delivery, read = (only_event(r) for r in receiver.requests)
    assert echo["sender"] == {"id": PAGE}
    assert echo["recipient"] == {"id": PSID}
    assert echo["message"] == {
        "mid": mid,
        "is_echo": True,
        "app_id": int(hooked.accounts[PAGE].app_id),
        "metadata": "order:1",
        "text": "Đơn DH-1 đã xác nhận",
    }
    assert delivery["delivery"] == {"watermark": NOW_MS, "mids": [mid]}
    assert read["read"] == {"watermark": NOW_MS}
    assert delivery["sender"] == {"id": PSID}


async def test_automatic_receipts(
    hooked: GraphState, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    hooked.config.auto_echo = hooked.config.auto_delivery = hooked.config.auto_read = True
    await send(client, text())
    await hooked.drain()
    kinds = [
        next(k for k in ("message", "delivery", "read") if k in only_event(r))
        for r in receiver.requests
    ]
    assert kinds == ["message", "delivery", "read"]
    assert only_event(receiver.requests[0])["message"]["is_echo"] is True


# ---- Instagram -----------------------------------------------------------------------


async def test_instagram_message_envelope(hooked: GraphState, receiver: Receiver) -> None:
    await hooked.user_says(IG, IGSID, "hello")
    body = json.loads(receiver.requests[0].body)
    assert body["object"] == "instagram"
    assert body["entry"][0]["id"] == IG
    assert verify(receiver.requests[0])


async def test_story_mention_and_reply(hooked: GraphState, receiver: Receiver) -> None:
    await hooked.story_mention(IG, IGSID, url="https://lookaside.fbsbx.com/story/1")
    await hooked.story_reply(IG, IGSID, "Đẹp quá", story_id="s-1")
    mention = only_event(receiver.requests[0])["message"]
    assert mention["attachments"] == [
        {"type": "story_mention", "payload": {"url": "https://lookaside.fbsbx.com/story/1"}}
    ]
    reply = only_event(receiver.requests[1])["message"]
    assert reply["text"] == "Đẹp quá"
    assert reply["reply_to"]["story"]["id"] == "s-1"
    assert reply["reply_to"]["story"]["url"].startswith("https://")


async def test_instagram_comment_shape(hooked: GraphState, receiver: Receiver) -> None:
    emission = await hooked.user_comments(IG, "media-1", "giá sao ạ", IGSID, "lan.ng")
    body = json.loads(receiver.requests[0].body)
    [change] = body["entry"][0]["changes"]
    assert change == {
        "field": "comments",
        "value": {
            "id": emission.comment_id,
            "from": {"id": IGSID, "username": "lan.ng"},
            "text": "giá sao ạ",
            "media": {"id": "media-1", "media_product_type": "FEED"},
        },
    }


async def test_instagram_read_is_by_mid_and_has_no_deliveries(
    hooked: GraphState, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    mid = (await send(client, text(IGSID), token=IG_TOKEN, node=IG)).json()["message_id"]
    await hooked.read(IG, IGSID)
    assert only_event(receiver.requests[0])["read"] == {"mid": mid}
    with pytest.raises(ValueError, match="Instagram"):
        hooked.build.delivery(IG, IGSID)
