from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatcart.channels.base import AccountRef, ParseError
from chatcart.channels.instagram.adapter import InstagramAdapter
from chatcart.channels.meta.webhook import split_webhook
from tests.channels.meta.support import VERSION, fixture_bytes, parse_all

IGSID = "1254459154682919"


@pytest.fixture
def adapter() -> InstagramAdapter:
    return InstagramAdapter("http://graph.invalid", VERSION)


def test_messages_story_mention_story_reply_reel_seen_echo_postback(
    adapter: InstagramAdapter, ig_account: AccountRef
) -> None:
    events = parse_all(adapter, fixture_bytes("instagram_messages.json"), ig_account)
    text, mention, story_reply, reel, seen, echo, icebreaker = events
    assert text.kind == "message"
    assert text.content.text == "Áo này còn màu đen không shop?"
    assert text.sender_id == IGSID
    assert text.timestamp == datetime.fromtimestamp(1767261600.100, UTC)

    assert mention.kind == "story_mention"
    (story,) = mention.content.attachments
    assert story.url == (
        "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17951234567890123"
        "&signature=AbCdEfGh_story"
    )

    assert story_reply.kind == "message"
    assert story_reply.content.text == "Mẫu này giá sao ạ"
    assert story_reply.reply_to == {
        "story": {
            "id": "17962345678901234",
            "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17962345678901234"
            "&signature=XyZ_reply",
        }
    }

    assert [(a.kind, a.name) for a in reel.content.attachments] == [("video", "Outfit đi biển")]

    assert seen.kind == "read"  # messaging_seen names a mid, not a watermark
    assert seen.mids == [echo.external_id]
    assert seen.watermark == seen.timestamp

    assert echo.kind == "echo"
    assert echo.sender_id == IGSID
    assert echo.metadata == "out:77:1"

    assert icebreaker.kind == "postback"
    assert icebreaker.payload == "SIZE_CHART"
    assert icebreaker.content.text == "Bảng size"


def test_comments(adapter: InstagramAdapter, ig_account: AccountRef) -> None:
    events = parse_all(adapter, fixture_bytes("instagram_comments.json"), ig_account)
    assert len(events) == 3  # the account's own reply is left out
    feed, ad, live = events
    assert feed.kind == "comment"
    assert feed.sender_id == IGSID
    assert feed.profile == {"username": "lan.nguyen.99"}
    assert feed.timestamp == datetime.fromtimestamp(1767265200, UTC)
    comment = feed.comment
    assert comment is not None
    assert comment.comment_id == "17887654321098765"
    assert comment.post_id == "18012345678901234"
    assert comment.media_product_type == "FEED"
    assert comment.text == "ib giá giúp em"
    assert comment.from_name == "lan.nguyen.99"
    assert ad.comment is not None
    assert ad.comment.media_product_type == "AD"
    assert ad.referral == {
        "source": "ADS",
        "ad_id": "120210987654321099",
        "ad_title": "Áo thun cotton — giảm 30%",
    }
    assert live.content.text == "chốt 2 áo"


def test_a_page_item_is_not_an_instagram_item(
    adapter: InstagramAdapter, ig_account: AccountRef
) -> None:
    page_item = split_webhook(fixture_bytes("messenger_standby.json"), "page").items[0]
    with pytest.raises(ParseError, match="instagram"):
        adapter.parse(page_item.body, ig_account)


def test_deleted_message_gives_nothing(adapter: InstagramAdapter, ig_account: AccountRef) -> None:
    raw = (
        b'{"object":"instagram","entry":[{"id":"17841405309211844","time":1767261600555,'
        b'"messaging":[{"sender":{"id":"1254459154682919"},"recipient":{"id":"17841405309211844"},'
        b'"timestamp":1767261600100,"message":{"mid":"aWdfZAG1_deleted","is_deleted":true}}]}]}'
    )
    assert parse_all(adapter, raw, ig_account) == []


def test_comment_without_author_is_a_parse_error(
    adapter: InstagramAdapter, ig_account: AccountRef
) -> None:
    raw = (
        b'{"object":"instagram","entry":[{"id":"17841405309211844","time":1767265200,'
        b'"changes":[{"field":"comments","value":{"id":"1","text":"x"}}]}]}'
    )
    item = split_webhook(raw, "instagram").items[0]
    with pytest.raises(ParseError, match="from"):
        adapter.parse(item.body, ig_account)
