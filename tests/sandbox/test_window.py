"""The 24 h window, HUMAN_AGENT, the three tags retired on 2026-04-27, legacy tags,
Instagram's tag rule (platforms.md 2.2, 3, correction at the top). Edges are inclusive:
allowed iff age <= limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chatcart.sandbox.graph import GraphState
from tests.sandbox.helpers import (
    IG,
    IG_TOKEN,
    IGSID,
    PAGE,
    PSID,
    error_of,
    send,
    tagged,
    text,
)

SECOND = timedelta(seconds=1)
DAY = timedelta(hours=24)
WEEK = timedelta(days=7)
UTILITY = ["CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"]
LAST_DAY = datetime(2026, 4, 26, 23, 59, 59, tzinfo=UTC)
RETIRED = datetime(2026, 4, 27, 0, 0, 0, tzinfo=UTC)


def last_message(state: GraphState, age: timedelta, page: str = PAGE, user: str = PSID) -> None:
    state.set_interaction(page, user, state.clock.now() - age)


def assert_outside_window(response: httpx.Response, subcode: int = 2018278) -> None:
    assert response.status_code == 400
    err = error_of(response)
    assert err == {
        "message": "(#10) This message is sent outside of allowed window.",
        "type": "OAuthException",
        "code": 10,
        "error_subcode": subcode,
        "fbtrace_id": err["fbtrace_id"],
    }


@pytest.mark.parametrize("messaging_type", ["RESPONSE", "UPDATE"])
@pytest.mark.parametrize(("age", "ok"), [(DAY - SECOND, True), (DAY, True), (DAY + SECOND, False)])
async def test_standard_window_edges(
    client: httpx.AsyncClient,
    state: GraphState,
    messaging_type: str,
    age: timedelta,
    ok: bool,
) -> None:
    last_message(state, age)
    response = await send(client, text(messaging_type=messaging_type))
    if ok:
        assert response.status_code == 200
    else:
        assert_outside_window(response)


async def test_no_interaction_means_outside(client: httpx.AsyncClient, state: GraphState) -> None:
    state.add_user(PAGE, "7100", first_name="Mai")
    assert_outside_window(await send(client, text("7100")))


async def test_window_follows_the_clock(client: httpx.AsyncClient, state: GraphState) -> None:
    assert (await send(client, text())).status_code == 200
    state.clock.advance(DAY + SECOND)
    assert_outside_window(await send(client, text()))


@pytest.mark.parametrize(
    ("age", "ok"), [(WEEK - SECOND, True), (WEEK, True), (WEEK + SECOND, False)]
)
async def test_human_agent_edges(
    client: httpx.AsyncClient, state: GraphState, age: timedelta, ok: bool
) -> None:
    state.set_feature("human_agent", True)
    last_message(state, age)
    response = await send(client, tagged("HUMAN_AGENT"))
    if ok:
        assert response.status_code == 200
    else:
        assert_outside_window(response)


@pytest.mark.parametrize("age", [timedelta(hours=1), timedelta(days=3)])
async def test_human_agent_needs_the_feature(
    client: httpx.AsyncClient, state: GraphState, age: timedelta
) -> None:
    last_message(state, age)
    err = error_of(await send(client, tagged("HUMAN_AGENT")))
    assert err["code"] == 200
    assert "human_agent" in state.sends()[-1].reason


@pytest.mark.parametrize("tag", UTILITY)
async def test_utility_tags_any_age_until_2026_04_26(
    client: httpx.AsyncClient, state: GraphState, tag: str
) -> None:
    state.clock.set(LAST_DAY)
    last_message(state, timedelta(days=400))
    assert (await send(client, tagged(tag))).status_code == 200
    last_message(state, timedelta(minutes=5))
    assert (await send(client, tagged(tag))).status_code == 200


@pytest.mark.parametrize("tag", UTILITY)
@pytest.mark.parametrize("age", [timedelta(minutes=5), timedelta(days=400)])
async def test_utility_tags_rejected_from_2026_04_27(
    client: httpx.AsyncClient, state: GraphState, tag: str, age: timedelta
) -> None:
    state.clock.set(RETIRED)
    last_message(state, age)
    err = error_of(await send(client, tagged(tag)))
    assert (err["code"], err["message"]) == (100, "(#100) Invalid parameter")
    assert "2026-04-27" in state.sends()[-1].reason


async def test_retirement_is_by_utc_date_of_the_send(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    last_message(state, timedelta(days=30))
    state.clock.set(RETIRED - SECOND)
    assert (await send(client, tagged("POST_PURCHASE_UPDATE"))).status_code == 200
    state.clock.advance(SECOND)
    assert error_of(await send(client, tagged("POST_PURCHASE_UPDATE")))["code"] == 100


async def test_human_agent_survives_the_retirement(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.set_feature("human_agent", True)
    state.clock.set(RETIRED + timedelta(days=100))
    last_message(state, timedelta(days=6))
    assert (await send(client, tagged("HUMAN_AGENT"))).status_code == 200


@pytest.mark.parametrize(
    "tag", ["SHIPPING_UPDATE", "NON_PROMOTIONAL_SUBSCRIPTION", "ISSUE_RESOLUTION", "TICKET_UPDATE"]
)
async def test_legacy_tags_are_invalid(
    client: httpx.AsyncClient, state: GraphState, tag: str
) -> None:
    state.clock.set(LAST_DAY)
    assert error_of(await send(client, tagged(tag)))["code"] == 100
    assert "2020-03-04" in state.sends()[-1].reason


@pytest.mark.parametrize("tag", ["PROMO", "human_agent", ""])
async def test_unknown_tags_are_invalid(client: httpx.AsyncClient, tag: str) -> None:
    assert error_of(await send(client, tagged(tag)))["code"] == 100


async def test_tag_error_comes_before_the_recipient_check(client: httpx.AsyncClient) -> None:
    """A bad tag is a parameter error even for a PSID that does not exist."""
    assert error_of(await send(client, tagged("SHIPPING_UPDATE", "nobody")))["code"] == 100


# ---- Instagram -----------------------------------------------------------------------


async def ig_send(client: httpx.AsyncClient, body: dict[str, object]) -> httpx.Response:
    return await send(client, body, token=IG_TOKEN, node=IG)


@pytest.mark.parametrize(("age", "ok"), [(DAY, True), (DAY + SECOND, False)])
async def test_instagram_window_subcode(
    client: httpx.AsyncClient, state: GraphState, age: timedelta, ok: bool
) -> None:
    last_message(state, age, IG, IGSID)
    response = await ig_send(client, text(IGSID))
    if ok:
        assert response.status_code == 200
    else:
        assert_outside_window(response, subcode=2534022)


@pytest.mark.parametrize(("age", "ok"), [(WEEK, True), (WEEK + SECOND, False)])
async def test_instagram_human_agent(
    client: httpx.AsyncClient, state: GraphState, age: timedelta, ok: bool
) -> None:
    state.set_feature("human_agent", True)
    last_message(state, age, IG, IGSID)
    response = await ig_send(client, tagged("HUMAN_AGENT", IGSID))
    if ok:
        assert response.status_code == 200
    else:
        assert_outside_window(response, subcode=2534022)


@pytest.mark.parametrize("tag", UTILITY)
async def test_instagram_rejects_utility_tags_even_before_retirement(
    client: httpx.AsyncClient, state: GraphState, tag: str
) -> None:
    state.clock.set(LAST_DAY)
    assert error_of(await ig_send(client, tagged(tag, IGSID)))["code"] == 100


# ---- sender actions ------------------------------------------------------------------


async def test_sender_action_only_inside_the_window(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    body = {"recipient": {"id": PSID}, "sender_action": "typing_on"}
    last_message(state, DAY)
    assert (await send(client, body)).status_code == 200
    last_message(state, DAY + SECOND)
    assert_outside_window(await send(client, body))
