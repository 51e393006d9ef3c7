"""Private replies: once per comment/post, within 7 days, never to the Page's own comment,
and they do not open the window (platforms.md 2.2, 2.6, 3; checklist 2.11 #8)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatcart.sandbox.graph import GraphState
from tests.sandbox.helpers import IG, IG_TOKEN, NOW, PAGE, error_of, send, text

SECOND = timedelta(seconds=1)
WEEK = timedelta(days=7)
COMMENT = "555_1000000000000001"


def reply(comment_id: str = COMMENT, **extra: Any) -> dict[str, Any]:
    return {
        "recipient": {"comment_id": comment_id},
        "message": {"text": "Shop inbox bạn nha"},
    } | extra


@pytest.fixture
def comment(state: GraphState) -> str:
    state.add_comment(
        PAGE, COMMENT, post_id=f"{PAGE}_555", from_id="fb-42", from_name="Trần Minh", created_at=NOW
    )
    return COMMENT


async def test_private_reply_opens_a_thread_with_a_new_psid(
    client: httpx.AsyncClient, state: GraphState, comment: str
) -> None:
    response = await send(client, reply(comment))
    assert response.status_code == 200
    psid = response.json()["recipient_id"]
    assert psid != "fb-42"  # feed ids are not PSIDs (2.6)
    user = state.user(PAGE, psid)
    assert user is not None
    assert (user.first_name, user.last_name, user.feed_id) == ("Trần", "Minh", "fb-42")
    assert state.feed[comment].private_reply_sent


async def test_second_private_reply_is_rejected(client: httpx.AsyncClient, comment: str) -> None:
    assert (await send(client, reply(comment))).status_code == 200
    err = error_of(await send(client, reply(comment)))
    assert err["code"] == 10900


@pytest.mark.parametrize(
    ("age", "ok"), [(WEEK - SECOND, True), (WEEK, True), (WEEK + SECOND, False)]
)
async def test_private_reply_seven_day_edge(
    client: httpx.AsyncClient, state: GraphState, comment: str, age: timedelta, ok: bool
) -> None:
    state.clock.set(NOW + age)
    response = await send(client, reply(comment))
    if ok:
        assert response.status_code == 200
    else:
        err = error_of(response)
        assert (err["code"], err["error_subcode"]) == (10, 2018278)
        assert not state.feed[comment].private_reply_sent


async def test_not_to_the_pages_own_comment(client: httpx.AsyncClient, state: GraphState) -> None:
    state.add_comment(PAGE, "555_2", post_id=f"{PAGE}_555", from_id=PAGE, from_name="Shop")
    assert error_of(await send(client, reply("555_2")))["code"] == 10902


async def test_unknown_comment(client: httpx.AsyncClient) -> None:
    err = error_of(await send(client, reply("555_404")))
    assert (err["code"], err["error_subcode"]) == (100, 2018292)


async def test_comment_of_another_account_is_unknown(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.add_comment(IG, "ig-c1", post_id="media-1", from_id="9002", from_name="minh")
    err = error_of(await send(client, reply("ig-c1")))
    assert err["error_subcode"] == 2018292


async def test_private_reply_does_not_open_the_window(
    client: httpx.AsyncClient, state: GraphState, comment: str
) -> None:
    psid = (await send(client, reply(comment))).json()["recipient_id"]
    assert error_of(await send(client, text(psid)))["error_subcode"] == 2018278
    state.set_interaction(PAGE, psid)  # the person answers
    assert (await send(client, text(psid))).status_code == 200


async def test_private_reply_goes_to_the_known_psid_of_a_commenter(
    client: httpx.AsyncClient, state: GraphState, comment: str
) -> None:
    state.add_user(PAGE, "7555", feed_id="fb-42", first_name="Minh")
    assert (await send(client, reply(comment))).json()["recipient_id"] == "7555"


async def test_unavailable_commenter(
    client: httpx.AsyncClient, state: GraphState, comment: str
) -> None:
    state.add_user(PAGE, "7555", feed_id="fb-42", unavailable=True)
    assert error_of(await send(client, reply(comment)))["code"] == 551


async def test_no_tag_on_private_replies(client: httpx.AsyncClient, comment: str) -> None:
    body = reply(comment, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert error_of(await send(client, body))["code"] == 100


async def test_private_reply_content_is_checked(client: httpx.AsyncClient, comment: str) -> None:
    body = {"recipient": {"comment_id": comment}, "message": {"text": "x" * 2001}}
    assert error_of(await send(client, body))["code"] == 100


async def test_visitor_post_private_reply(client: httpx.AsyncClient, state: GraphState) -> None:
    state.add_comment(PAGE, "p1", post_id="p1", from_id="fb-7", kind="post")
    body = {"recipient": {"post_id": "p1"}, "message": {"text": "Cảm ơn bạn"}}
    assert (await send(client, body)).status_code == 200
    assert error_of(await send(client, body))["code"] == 10900
    assert error_of(await send(client, reply("p1")))["error_subcode"] == 2018292  # not a comment


@pytest.mark.parametrize(("age", "ok"), [(WEEK, True), (WEEK + SECOND, False)])
async def test_instagram_private_reply(
    client: httpx.AsyncClient, state: GraphState, age: timedelta, ok: bool
) -> None:
    state.add_comment(
        IG, "ig-c1", post_id="media-1", from_id="9002", from_name="minh", created_at=NOW
    )
    state.clock.set(NOW + age)
    response = await send(client, reply("ig-c1"), token=IG_TOKEN, node=IG)
    if ok:
        assert response.json()["recipient_id"] == "9002"  # IG comments carry the IGSID
    else:
        assert error_of(response)["error_subcode"] == 2534022
