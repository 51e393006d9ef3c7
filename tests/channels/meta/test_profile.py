from __future__ import annotations

import pytest

from chatcart.channels.base import AccountRef, SendError
from chatcart.channels.instagram.adapter import InstagramAdapter
from chatcart.channels.messenger.adapter import MessengerAdapter
from chatcart.kit.http import HttpLimits
from tests.channels.meta.support import PAGE_TOKEN, VERSION, FakeGraph, Reply

PSID = "6873412290051234"
IGSID = "1254459154682919"


async def test_messenger_profile(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    graph.answer(
        Reply(
            body={
                "first_name": "Lan",
                "last_name": "Nguyễn",
                "profile_pic": "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=1",
                "locale": "vi_VN",
                "timezone": 7,
                "id": PSID,
            }
        )
    )
    profile = await messenger.profile(page_account, PSID)
    (request,) = graph.requests
    assert request.method == "GET"
    assert request.path == f"/{VERSION}/{PSID}"
    assert request.query == {"fields": "first_name,last_name,profile_pic,locale,timezone"}
    assert request.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert profile == {
        "first_name": "Lan",
        "last_name": "Nguyễn",
        "profile_pic": "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=1",
        "locale": "vi_VN",
        "timezone": 7,
    }


async def test_messenger_profile_asks_again_without_locale_and_timezone(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    graph.answer(
        Reply(status=400, body={"error": {"message": "(#100) no permission", "code": 100}}),
        Reply(body={"first_name": "Lan", "last_name": "Nguyễn", "id": PSID}),
    )
    assert await messenger.profile(page_account, PSID) == {
        "first_name": "Lan",
        "last_name": "Nguyễn",
    }
    assert graph.requests[1].query == {"fields": "first_name,last_name,profile_pic"}


async def test_missing_profile_is_empty(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    not_found = {"error": {"message": "(#100) No profile available", "code": 100}}
    graph.answer(Reply(status=400, body=not_found), Reply(status=400, body=not_found))
    assert await messenger.profile(page_account, PSID) == {}
    graph.answer(Reply(status=400, body={"error": {"code": 551, "message": "unavailable"}}))
    assert await messenger.profile(page_account, PSID) == {}
    graph.answer(Reply(status=500, raw=b"oops"))
    assert await messenger.profile(page_account, PSID) == {}


async def test_expired_token_raises_reauth(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    graph.answer(
        Reply(
            status=400,
            body={
                "error": {
                    "message": "Error validating access token: Session has expired",
                    "type": "OAuthException",
                    "code": 190,
                    "error_subcode": 463,
                }
            },
        )
    )
    with pytest.raises(SendError) as caught:
        await messenger.profile(page_account, PSID)
    assert (caught.value.outcome, caught.value.code) == ("reauth", "190/463")


async def test_profile_timeout_is_empty(graph: FakeGraph, page_account: AccountRef) -> None:
    adapter = MessengerAdapter(graph.url, VERSION, limits=HttpLimits(total_seconds=0.1))
    graph.answer(Reply(body={"first_name": "late"}, delay=0.5))
    try:
        assert await adapter.profile(page_account, PSID) == {}
    finally:
        await adapter.aclose()


async def test_instagram_profile(
    graph: FakeGraph, instagram: InstagramAdapter, ig_account: AccountRef
) -> None:
    graph.answer(
        Reply(
            body={
                "name": "Lan Nguyễn",
                "username": "lan.nguyen.99",
                "profile_pic": "https://scontent.cdninstagram.com/v/t51.2885-19/lan.jpg",
                "id": IGSID,
            }
        )
    )
    profile = await instagram.profile(ig_account, IGSID)
    assert graph.requests[0].path == f"/{VERSION}/{IGSID}"
    assert graph.requests[0].query == {"fields": "name,username,profile_pic"}
    assert profile == {
        "name": "Lan Nguyễn",
        "username": "lan.nguyen.99",
        "profile_pic": "https://scontent.cdninstagram.com/v/t51.2885-19/lan.jpg",
    }
