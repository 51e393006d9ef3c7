from __future__ import annotations

import orjson
import pytest

from chatcart.channels.meta.webhook import WebhookError, decode_item, split_webhook
from tests.channels.meta.support import IG_ID, PAGE_ID, fixture_bytes


def _messaging_batch(count: int) -> bytes:
    """One POST with several entries, each with several messaging items (up to 1000 a POST)."""
    entries = []
    for e in range(5):
        items = []
        for i in range(count // 5):
            n = e * (count // 5) + i
            items.append(
                {
                    "sender": {"id": f"68734122900{n:05d}"},
                    "recipient": {"id": PAGE_ID},
                    "timestamp": 1767236400000 + n,
                    "message": {"mid": f"m_batch_{n:03d}", "text": f"Tin nhắn số {n}"},
                }
            )
        entries.append({"id": PAGE_ID, "time": 1767236400999 + e, "messaging": items})
    return orjson.dumps({"object": "page", "entry": entries})


def test_batch_of_50_messaging_items_gives_50_distinct_ids() -> None:
    raw = _messaging_batch(50)
    batch = split_webhook(raw, "page")
    assert batch.object == "page"
    assert len(batch.items) == 50
    assert len({item.external_id for item in batch.items}) == 50
    assert batch.items[7].external_id == "m_batch_007"
    assert batch.items[7].sender_id == "6873412290000007"
    assert batch.page_ids == (PAGE_ID,)


def test_the_same_body_twice_gives_the_same_ids_and_bodies() -> None:
    for name in ("messenger_messages.json", "messenger_feed.json", "messenger_optins.json"):
        raw = fixture_bytes(name)
        first, second = split_webhook(raw, "page"), split_webhook(raw, "page")
        assert [i.external_id for i in first.items] == [i.external_id for i in second.items]
        assert [i.body for i in first.items] == [i.body for i in second.items]


def test_item_body_keeps_the_item_as_received() -> None:
    raw = fixture_bytes("messenger_messages.json")
    batch = split_webhook(raw, "page")
    sent = orjson.loads(raw)["entry"][0]["messaging"][1]
    recorded = orjson.loads(batch.items[1].body)
    assert recorded == {
        "object": "page",
        "entry_id": PAGE_ID,
        "entry_time": 1767236400456,
        "field": "messaging",
        "item": sent,
    }
    assert decode_item(batch.items[1].body).item == sent


def test_ids_per_event_kind() -> None:
    ids = {
        name: [
            (i.external_id, i.sender_id) for i in split_webhook(fixture_bytes(name), "page").items
        ]
        for name in (
            "messenger_receipts_echoes.json",
            "messenger_postbacks_referrals.json",
            "messenger_optins.json",
            "messenger_feed.json",
        )
    }
    echoes = ids["messenger_receipts_echoes.json"]
    psid = "6873412290051234"
    assert echoes[0] == (
        "m_Echo1Echo2Echo3Echo4Echo5Echo6Echo7_Echo8Echo9Echo0EchoAEchoBEchoC",
        psid,  # the echo's recipient: the person
    )
    assert echoes[2] == (f"dlv:{psid}:1767247200100", psid)
    assert echoes[3] == (f"read:{psid}:1767247260200", psid)
    postbacks = ids["messenger_postbacks_referrals.json"]
    assert postbacks[0][0].startswith("m_Pb1")
    assert postbacks[1][0] == "pb:8120034455667788:1767240030654"  # no mid: derived
    assert postbacks[2][0] == f"ref:{psid}:1767240100987"
    assert postbacks[3][0] == "ref:7019284756601122:1767240200111"
    optins = ids["messenger_optins.json"]
    assert optins[0] == (
        "optin:ucr_5f1c2a9e-7b3d-4c1a-9e8f-0a1b2c3d4e5f:1767243600100",
        "ucr_5f1c2a9e-7b3d-4c1a-9e8f-0a1b2c3d4e5f",
    )
    assert optins[1][0] == f"optin:{psid}:1767243700200"
    feed = ids["messenger_feed.json"]
    assert feed[0] == ("cmt:987654321012345_1122334455667788:add", "3391827364501928")
    assert feed[2][0].startswith("h:")  # a reaction: hashed, still stable
    assert feed[3][0].startswith("cmt:987654321012345_1122334455667788:edited:")


def test_instagram_ids() -> None:
    batch = split_webhook(fixture_bytes("instagram_comments.json"), "instagram")
    assert [i.external_id for i in batch.items] == [
        "igc:17887654321098765",
        "igc:17887654321098799",
        "igc:17887654321098811",
        "igc:17887654321098822",
    ]
    assert batch.items[0].sender_id == "1254459154682919"
    assert batch.page_ids == (IG_ID,)
    seen = split_webhook(fixture_bytes("instagram_messages.json"), "instagram").items[4]
    assert seen.external_id.startswith("read:1254459154682919:aWdfZAG1")


def test_standby_items_are_recorded_with_their_field() -> None:
    batch = split_webhook(fixture_bytes("messenger_standby.json"), "page")
    assert len(batch.items) == 1
    assert orjson.loads(batch.items[0].body)["field"] == "standby"


def test_page_ids_of_every_entry() -> None:
    raw = orjson.dumps(
        {
            "object": "page",
            "entry": [
                {"id": "111", "time": 1, "messaging": []},
                {"id": "222", "time": 2},
                {"id": "111", "time": 3, "changes": []},
            ],
        }
    )
    batch = split_webhook(raw, "page")
    assert batch.page_ids == ("111", "222")
    assert batch.items == ()


def test_unknown_items_get_a_stable_hashed_id() -> None:
    reaction = {
        "sender": {"id": "6873412290051234"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1767236400123,
        "reaction": {"mid": "m_1", "action": "react", "reaction": "love", "emoji": "❤"},
    }
    raw = orjson.dumps({"object": "page", "entry": [{"id": PAGE_ID, "messaging": [reaction]}]})
    again = orjson.dumps(
        {"entry": [{"messaging": [reaction], "time": 99, "id": PAGE_ID}], "object": "page"}
    )
    first = split_webhook(raw, "page").items[0].external_id
    assert first.startswith("h:")
    assert split_webhook(again, "page").items[0].external_id == first


@pytest.mark.parametrize(
    ("raw", "expected_object", "needle"),
    [
        (b"{not json", "page", "not JSON"),
        (b"[]", "page", "not a JSON object"),
        (b'{"object":"whatsapp_business_account","entry":[]}', "page", "whatsapp_business_account"),
        (b'{"object":"page","entry":[]}', "instagram", "'page'"),
        (b'{"entry":[]}', "page", "None"),
        (b'{"object":"page"}', "page", "missing entry"),
        (b'{"object":"page","entry":{}}', "page", "missing entry"),
        (b'{"object":"page","entry":[{"time":1}]}', "page", "without an id"),
        (b'{"object":"page","entry":[{"id":"1","messaging":{}}]}', "page", "not a list"),
        (b'{"object":"page","entry":[{"id":"1","messaging":[1]}]}', "page", "not an object"),
        (b'{"object":"page","entry":[{"id":"1","changes":[{"value":{}}]}]}', "page", "field"),
    ],
)
def test_malformed_posts_are_rejected_with_400(
    raw: bytes, expected_object: str, needle: str
) -> None:
    with pytest.raises(WebhookError) as caught:
        split_webhook(raw, expected_object)  # type: ignore[arg-type]
    assert caught.value.status == 400
    assert caught.value.status_code == 400
    assert needle in caught.value.reason
