"""Marketing-message opt-in tokens (platforms.md 2.4; reading in sandbox/graph/marketing.py):
alive before 2026-02-10, retired from then; token validity; cadence and cooldown (24 h, 48 h
from 2025-09-01); opt-in requests only inside the window, once a week per title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chatcart.sandbox.graph import GraphState
from tests.sandbox.helpers import IG, IGSID, PAGE, PSID, error_of, send, text

SECOND = timedelta(seconds=1)
MONDAY = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
RETIRED = datetime(2026, 2, 10, tzinfo=UTC)


def optin(
    state: GraphState,
    frequency: Any = "DAILY",
    *,
    timezone: str = "UTC",
    page: str = PAGE,
    user: str = PSID,
) -> str:
    event = state.build.user_optin_marketing(
        page, user, frequency, "Ưu đãi hằng tuần", "DEALS", timezone=timezone
    )
    event.apply()
    assert event.ref is not None
    return event.ref


def promo(token: str, **extra: Any) -> dict[str, Any]:
    message = {"text": "Giảm 20% cuối tuần!"}
    return {"recipient": {"notification_messages_token": token}, "message": message} | extra


async def ok(client: httpx.AsyncClient, body: dict[str, Any]) -> bool:
    response = await send(client, body)
    if response.status_code == 200:
        return True
    assert error_of(response)["code"] == 100, response.text
    return False


async def test_token_send_before_retirement(client: httpx.AsyncClient, state: GraphState) -> None:
    state.clock.set(MONDAY)
    token = optin(state)
    response = await send(client, promo(token))
    assert response.status_code == 200
    assert response.json()["recipient_id"] == PSID
    assert state.tokens[token].last_sent_at == MONDAY


@pytest.mark.parametrize(("at", "accepted"), [(RETIRED - SECOND, True), (RETIRED, False)])
async def test_recurring_notifications_retired_on_2026_02_10(
    client: httpx.AsyncClient, state: GraphState, at: datetime, accepted: bool
) -> None:
    state.clock.set(MONDAY)
    token = optin(state)
    state.clock.set(at)
    assert await ok(client, promo(token)) is accepted
    if not accepted:
        assert "2026-02-10" in state.sends()[-1].reason


async def test_token_sends_ignore_the_window(client: httpx.AsyncClient, state: GraphState) -> None:
    state.clock.set(MONDAY)
    state.set_interaction(PAGE, PSID, MONDAY - timedelta(days=60))
    token = optin(state)
    assert await ok(client, promo(token))
    assert error_of(await send(client, text()))["code"] == 10


@pytest.mark.parametrize(
    ("first", "gap"),
    [
        (datetime(2025, 6, 2, 10, tzinfo=UTC), timedelta(hours=24)),  # before 2025-09-01
        (datetime(2025, 9, 1, 10, tzinfo=UTC), timedelta(hours=48)),  # from 2025-09-01
        (MONDAY, timedelta(hours=48)),
    ],
)
async def test_daily_cooldown_edges(
    client: httpx.AsyncClient, state: GraphState, first: datetime, gap: timedelta
) -> None:
    state.clock.set(first)
    token = optin(state, "DAILY")
    assert await ok(client, promo(token))
    state.clock.set(first + gap - SECOND)
    assert not await ok(client, promo(token))
    state.clock.set(first + gap)
    assert await ok(client, promo(token))


async def test_weekly_is_once_per_calendar_week(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.clock.set(MONDAY)
    token = optin(state, "WEEKLY")
    assert await ok(client, promo(token))
    state.clock.set(datetime(2026, 1, 11, 23, 59, 59, tzinfo=UTC))  # Sunday night
    assert not await ok(client, promo(token))
    state.clock.set(datetime(2026, 1, 12, tzinfo=UTC))  # next Monday 00:00
    assert await ok(client, promo(token))


async def test_weekly_calendar_uses_the_token_timezone(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    sent = datetime(2026, 1, 5, 18, tzinfo=UTC)  # Tue 01:00 in Ho Chi Minh City (UTC+7)
    state.clock.set(sent)
    token = optin(state, "WEEKLY", timezone="Asia/Ho_Chi_Minh")
    assert await ok(client, promo(token))
    local_monday = datetime(2026, 1, 11, 17, tzinfo=UTC)  # Mon 12 Jan 00:00 at UTC+7
    state.clock.set(local_monday - SECOND)
    assert not await ok(client, promo(token))
    state.clock.set(local_monday)
    assert await ok(client, promo(token))


async def test_monthly_cadence_and_48h_gap(client: httpx.AsyncClient, state: GraphState) -> None:
    sent = datetime(2026, 1, 30, 10, tzinfo=UTC)
    state.clock.set(sent)
    token = optin(state, "MONTHLY")
    assert await ok(client, promo(token))
    state.clock.set(datetime(2026, 2, 1, 9, 59, 59, tzinfo=UTC))  # new month, gap not over
    assert not await ok(client, promo(token))
    state.clock.set(datetime(2026, 2, 1, 10, tzinfo=UTC))
    assert await ok(client, promo(token))


@pytest.mark.parametrize(
    ("frequency", "lifetime"),
    [
        ("DAILY", timedelta(days=182)),
        ("WEEKLY", timedelta(days=273)),
        ("MONTHLY", timedelta(days=365)),
    ],
)
async def test_token_expiry(
    client: httpx.AsyncClient, state: GraphState, frequency: str, lifetime: timedelta
) -> None:
    start = datetime(2024, 12, 1, tzinfo=UTC)  # every expiry falls before 2026-02-10
    state.clock.set(start)
    token = optin(state, frequency)
    assert state.tokens[token].expires_at == start + lifetime
    state.clock.set(start + lifetime - SECOND)
    assert await ok(client, promo(token))
    state.tokens[token].last_sent_at = None
    state.clock.set(start + lifetime)
    assert not await ok(client, promo(token))


async def test_stopped_token_then_resumed(client: httpx.AsyncClient, state: GraphState) -> None:
    state.clock.set(MONDAY)
    token = optin(state)
    state.build.user_stops_marketing(token).apply()
    assert not await ok(client, promo(token))
    state.build.user_stops_marketing(token, resume=True).apply()
    assert await ok(client, promo(token))


async def test_unknown_token_and_token_of_another_account(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.clock.set(MONDAY)
    assert not await ok(client, promo("1234567890123456789"))
    ig_token = optin(state, page=IG, user=IGSID)
    assert not await ok(client, promo(ig_token))


async def test_no_tag_with_a_token(client: httpx.AsyncClient, state: GraphState) -> None:
    state.clock.set(MONDAY)
    state.set_feature("human_agent", True)
    token = optin(state)
    assert not await ok(client, promo(token, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT"))


async def test_unavailable_subscriber(client: httpx.AsyncClient, state: GraphState) -> None:
    state.clock.set(MONDAY)
    token = optin(state)
    state.set_unavailable(PAGE, PSID)
    assert error_of(await send(client, promo(token)))["code"] == 551


async def test_optin_does_not_open_the_window(client: httpx.AsyncClient, state: GraphState) -> None:
    state.add_user(PAGE, "7300")
    optin(state, user="7300")
    assert error_of(await send(client, text("7300")))["error_subcode"] == 2018278


# ---- the opt-in request template -----------------------------------------------------


def optin_request(title: str = "Ưu đãi hằng tuần", **extra: Any) -> dict[str, Any]:
    payload = {
        "template_type": "notification_messages",
        "title": title,
        "payload": "DEALS",
        "notification_messages_frequency": "WEEKLY",
        "notification_messages_cta_text": "SIGN_UP",
    }
    message = {"attachment": {"type": "template", "payload": payload}}
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": message} | extra


async def test_optin_request_once_a_week_per_title(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    assert await ok(client, optin_request())
    assert not await ok(client, optin_request())
    assert await ok(client, optin_request("Hàng mới về"))
    state.clock.advance(timedelta(days=7))
    state.set_interaction(PAGE, PSID)
    assert await ok(client, optin_request())


async def test_optin_request_only_inside_the_window_even_with_a_tag(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.set_feature("human_agent", True)
    state.set_interaction(PAGE, PSID, state.clock.now() - timedelta(hours=24, seconds=1))
    body = optin_request(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert error_of(await send(client, body))["error_subcode"] == 2018278


@pytest.mark.parametrize(
    "changes",
    [{"title": "T" * 66}, {"notification_messages_frequency": "HOURLY"}, {"payload": None}],
)
async def test_optin_request_content(client: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    body = optin_request()
    payload = body["message"]["attachment"]["payload"]
    payload.update(changes)
    body["message"]["attachment"]["payload"] = {k: v for k, v in payload.items() if v is not None}
    assert not await ok(client, body)
