from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from chatcart.channels.base import AccountRef, Attachment, ParseError
from chatcart.channels.messenger.adapter import MessengerAdapter
from chatcart.channels.meta.webhook import split_webhook
from tests.channels.meta.support import PAGE_ID, VERSION, fixture_bytes, parse_all

PSID = "6873412290051234"
PSID2 = "7019284756601122"


@pytest.fixture
def adapter() -> MessengerAdapter:
    return MessengerAdapter("http://graph.invalid", VERSION)  # parse never calls out


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def test_text_messages_across_entries(adapter: MessengerAdapter, page_account: AccountRef) -> None:
    events = parse_all(adapter, fixture_bytes("messenger_messages.json"), page_account)
    assert len(events) == 8
    first, second, quick = events[0], events[1], events[2]
    assert first.kind == "message"
    assert first.sender_id == PSID
    assert first.content.text == "Áo thun còn size M không ạ?"  # NFD in, NFC out
    assert first.timestamp == at(1767236400123)
    assert first.timestamp.tzinfo is UTC
    assert first.external_id.startswith("m_Ab3xK9")
    assert second.content.text == "sdt em 0912.345.678"
    assert second.reply_to == {"mid": first.external_id}
    assert quick.content.text == "Đặt hàng"
    assert quick.payload == "ORDER_START"
    assert quick.sender_id == PSID2


def test_attachments(adapter: MessengerAdapter, page_account: AccountRef) -> None:
    events = parse_all(adapter, fixture_bytes("messenger_messages.json"), page_account)
    images, like, sticker, location, media = events[3:8]
    assert [a.kind for a in images.content.attachments] == ["image", "image"]
    assert images.content.attachments[0].url is not None
    assert images.content.attachments[0].url.endswith("oe=6790A1B2")
    assert images.content.text == ""
    assert like.content.attachments == [
        Attachment(
            kind="sticker",
            url="https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_5411344281094848512_n.png?_nc_cat=1",
            name="369239263222822",
        )
    ]
    assert sticker.content.attachments[0].kind == "sticker"
    assert sticker.content.attachments[0].name == "767226160478561"
    place = location.content.attachments[0]
    assert place.kind == "location"
    assert (place.latitude, place.longitude) == (10.77653, 106.700981)
    assert place.name == "Vị trí của Lan"
    kinds = [(a.kind, a.name) for a in media.content.attachments]
    assert kinds == [
        ("video", None),
        ("audio", None),
        ("file", None),
        ("file", "Áo thun nam cotton"),  # fallback: a shared link
        ("video", "Phối đồ mùa hè"),  # reel
    ]
    assert media.content.attachments[3].url == "https://shopee.vn/ao-thun-nam-i.123.456"


def test_postbacks_and_referrals(adapter: MessengerAdapter, page_account: AccountRef) -> None:
    events = parse_all(adapter, fixture_bytes("messenger_postbacks_referrals.json"), page_account)
    started, cart, link, ad = events
    assert started.kind == "postback"
    assert started.payload == "GET_STARTED"
    assert started.content.text == "Bắt đầu"
    assert started.referral == {
        "ref": "tet_sale_2026",
        "source": "SHORTLINK",
        "type": "OPEN_THREAD",
    }
    assert cart.kind == "postback"
    assert cart.payload == "VIEW_CART"
    assert cart.external_id == "pb:8120034455667788:1767240030654"
    assert link.kind == "referral"
    assert link.referral == {"ref": "combo_ao_quan", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    assert ad.kind == "referral"
    assert ad.referral is not None
    assert ad.referral["ad_id"] == "120210987654321098"
    assert ad.referral["source"] == "ADS"
    assert ad.referral["ads_context_data"]["ad_title"] == "Áo thun cotton — giảm 30%"


def test_optins(adapter: MessengerAdapter, page_account: AccountRef) -> None:
    plugin, marketing, stop = parse_all(
        adapter, fixture_bytes("messenger_optins.json"), page_account
    )
    assert plugin.kind == "optin"
    assert plugin.sender_id == "ucr_5f1c2a9e-7b3d-4c1a-9e8f-0a1b2c3d4e5f"
    assert plugin.optin is not None
    assert plugin.optin.type == "plugin"
    assert plugin.optin.ref == "checkout_box"
    assert plugin.optin.user_ref == plugin.sender_id
    assert marketing.sender_id == PSID
    token = marketing.optin
    assert token is not None
    assert token.type == "notification_messages"
    assert token.token == "7425810293847561029"
    assert token.frequency == "WEEKLY"
    assert token.expires_at == at(1790812800000)
    assert token.token_status == "NOT_REFRESHED"
    assert token.status == "RESUME_NOTIFICATIONS"
    assert token.title == "Ưu đãi mỗi tuần"
    assert token.timezone == "Asia/Ho_Chi_Minh"
    assert token.payload == "DEALS_WEEKLY"
    assert stop.optin is not None
    assert stop.optin.status == "STOP_NOTIFICATIONS"


def test_echoes_and_receipts(adapter: MessengerAdapter, page_account: AccountRef) -> None:
    ours, human, delivery, read = parse_all(
        adapter, fixture_bytes("messenger_receipts_echoes.json"), page_account
    )
    assert ours.kind == "echo"
    assert ours.sender_id == PSID  # the recipient of the echo: the person
    assert ours.app_id == "1517776481860111"
    assert ours.metadata == "out:42:1"
    assert ours.content.text == "Dạ size M còn ạ, giá 150.000đ"
    assert human.kind == "echo"
    assert human.app_id == "263902037430900"  # Page Inbox: a person at the shop wrote it
    assert human.metadata is None
    assert delivery.kind == "delivery"
    assert delivery.mids == [ours.external_id]
    assert delivery.watermark == at(1767247200100)
    assert delivery.sender_id == PSID
    assert read.kind == "read"
    assert read.watermark == at(1767247260200)
    assert read.mids == []


def test_feed_comments(adapter: MessengerAdapter, page_account: AccountRef) -> None:
    events = parse_all(adapter, fixture_bytes("messenger_feed.json"), page_account)
    # the Page's own reply and the reaction give nothing
    assert [e.kind for e in events] == ["comment", "comment"]
    added, edited = events
    assert added.sender_id == "3391827364501928"
    assert added.content.text == "bao nhiêu tiền vậy shop?"
    assert added.profile == {"name": "Nguyễn Thị Lan"}
    assert added.timestamp == datetime(2026, 1, 1, 6, 59, 59, tzinfo=UTC)  # seconds on feed
    comment = added.comment
    assert comment is not None
    assert comment.comment_id == "987654321012345_1122334455667788"
    assert comment.post_id == "104857392011234_987654321012345"
    assert comment.parent_id == "104857392011234_987654321012345"
    assert comment.from_id == "3391827364501928"
    assert comment.from_name == "Nguyễn Thị Lan"
    assert comment.verb == "add"
    assert edited.comment is not None
    assert edited.comment.verb == "edited"
    assert edited.content.text.endswith("size L")
    assert edited.external_id != added.external_id


def test_standby_messages_parse_like_messages(
    adapter: MessengerAdapter, page_account: AccountRef
) -> None:
    (event,) = parse_all(adapter, fixture_bytes("messenger_standby.json"), page_account)
    assert event.kind == "message"
    assert event.content.text == "Cho em gặp nhân viên"


def test_dashboard_test_form_is_read_too(
    adapter: MessengerAdapter, page_account: AccountRef
) -> None:
    raw = orjson.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "0",
                    "time": 1767236400,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "sender": {"id": "12334"},
                                "recipient": {"id": "23245"},
                                "timestamp": "1527459824",
                                "message": {"mid": "test_message_id", "text": "test_message"},
                            },
                        }
                    ],
                }
            ],
        }
    )
    (event,) = parse_all(adapter, raw, page_account)
    assert event.external_id == "test_message_id"
    assert event.timestamp == datetime.fromtimestamp(1527459824, UTC)  # seconds, as a string


def _item(messaging: dict[str, object]) -> bytes:
    raw = orjson.dumps({"object": "page", "entry": [{"id": PAGE_ID, "messaging": [messaging]}]})
    return split_webhook(raw, "page").items[0].body


@pytest.mark.parametrize(
    ("messaging", "reason"),
    [
        ({"recipient": {"id": PAGE_ID}, "timestamp": 1, "message": {"mid": "m"}}, "sender"),
        ({"sender": {"id": "1"}, "message": {"mid": "m", "text": "x"}}, "timestamp"),
        ({"sender": {"id": "1"}, "timestamp": "soon", "message": {"mid": "m"}}, "timestamp"),
        ({"sender": {"id": "1"}, "timestamp": 1, "message": "hi"}, "message"),
        ({"sender": {"id": "1"}, "timestamp": 1, "message": {"mid": "m", "text": 5}}, "text"),
        ({"sender": {"id": "1"}, "timestamp": 1, "message": {"attachments": {}}}, "attachments"),
        (
            {"sender": {"id": "1"}, "timestamp": 1, "delivery": {"mids": "m", "watermark": 1}},
            "mids",
        ),
    ],
)
def test_malformed_items_raise_parse_error(
    adapter: MessengerAdapter, page_account: AccountRef, messaging: dict[str, object], reason: str
) -> None:
    with pytest.raises(ParseError, match=reason):
        adapter.parse(_item(messaging), page_account)


def test_not_a_recorded_item(adapter: MessengerAdapter, page_account: AccountRef) -> None:
    with pytest.raises(ParseError):
        adapter.parse(b"garbage", page_account)
    with pytest.raises(ParseError, match="object"):
        adapter.parse(
            orjson.dumps(
                {"object": "instagram", "entry_id": "1", "field": "messaging", "item": {}}
            ),
            page_account,
        )


def test_events_we_do_not_act_on_give_nothing(
    adapter: MessengerAdapter, page_account: AccountRef
) -> None:
    reaction = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1767236400123,
        "reaction": {"mid": "m_1", "action": "react", "reaction": "love", "emoji": "❤"},
    }
    handover = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1767236400123,
        "pass_thread_control": {"new_owner_app_id": "263902037430900", "metadata": "x"},
    }
    assert adapter.parse(_item(reaction), page_account) == []
    assert adapter.parse(_item(handover), page_account) == []
