"""Promotions outside the window: opt-in tokens, frequency caps, the 2026-02-10 change (§2.4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chatcart.policy.schemas import Decision, Frequency, OptinToken, Purpose
from tests.policy.build import INSIDE, META, NOW, OUTSIDE, PROACTIVE, US, ask, assert_explained

P = Purpose
PAID = "messenger.marketing_messages"
FREE = "messenger.recurring_notifications"


def token(**fields: Any) -> OptinToken:
    values: dict[str, Any] = {
        "expires_at": NOW + timedelta(days=90),
        "frequency": Frequency.WEEKLY,
    }
    values.update(fields)
    return OptinToken(**values)


def promote(now: datetime = NOW, channel: str = "messenger", **fields: Any) -> Decision:
    """A promotion outside the window, from an account on the Marketing Message API."""
    fields.setdefault("marketing_api", True)
    return ask(channel, P.PROMOTION, now=now, ago=OUTSIDE, **fields)


def test_token_send() -> None:
    decision = promote(optin=token())
    assert decision.allowed
    assert decision.rule == PAID
    assert decision.effective == date(2026, 2, 10)
    assert (
        decision.recipient_kind,
        decision.tag,
        decision.messaging_type,
        decision.endpoint,
    ) == ("notification_messages_token", None, "UPDATE", "marketing_message_api")
    assert "paid Marketing Message API" in decision.reason
    assert_explained(decision)


def test_token_needs_the_marketing_message_api_from_2026_02_10() -> None:
    decision = promote(optin=token(), marketing_api=False)
    assert not decision.allowed
    assert decision.rule == f"{PAID}.not_connected"
    assert decision.effective == date(2026, 2, 10)
    assert "Marketing Message API" in decision.reason
    assert_explained(decision)
    # Before that day recurring notifications went through the Send API, no connection needed.
    before = promote(datetime(2026, 2, 9, tzinfo=UTC), optin=token(), marketing_api=False)
    assert before.allowed
    assert (before.rule, before.endpoint) == (FREE, "send_api")


def test_token_works_without_any_conversation() -> None:
    decision = ask("messenger", P.PROMOTION, ago=None, optin=token(), marketing_api=True)
    assert decision.allowed


def test_inside_the_window_a_promotion_is_a_standard_message_even_with_a_token() -> None:
    decision = ask("messenger", P.PROMOTION, ago=INSIDE, optin=token())
    assert decision.allowed
    assert (decision.rule, decision.recipient_kind, decision.messaging_type) == (
        "messenger.window",
        "id",
        "UPDATE",
    )


def test_no_token() -> None:
    decision = promote()
    assert not decision.allowed
    assert decision.rule == f"{PAID}.no_token"
    assert "never carry promotions" in decision.reason
    assert_explained(decision)


def test_stopped_token() -> None:
    decision = promote(optin=token(status="stopped"))
    assert not decision.allowed
    assert decision.rule == f"{PAID}.token_stopped"
    assert_explained(decision)


def test_token_expiry_boundary() -> None:
    expired = promote(optin=token(expires_at=NOW))
    assert not expired.allowed
    assert expired.rule == f"{PAID}.token_expired"
    assert "21 November 2026" in expired.reason
    assert_explained(expired)
    assert promote(optin=token(expires_at=NOW + US)).allowed


# (frequency, last send, first refused instant, first allowed instant, next day in the reason)
CALENDAR = [
    (
        Frequency.DAILY,
        datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 21, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
        "22 November 2026",
    ),
    (  # ISO weeks: Monday 16 .. Sunday 22 November 2026
        Frequency.WEEKLY,
        datetime(2026, 11, 16, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
        "23 November 2026",
    ),
    (
        Frequency.MONTHLY,
        datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        "1 December 2026",
    ),
    (  # across the year
        Frequency.MONTHLY,
        datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
        "1 January 2027",
    ),
    (  # ISO week 53 of 2026 runs into 2027
        Frequency.WEEKLY,
        datetime(2026, 12, 28, 9, 0, tzinfo=UTC),
        datetime(2027, 1, 3, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2027, 1, 4, 0, 0, tzinfo=UTC),
        "4 January 2027",
    ),
]


@pytest.mark.parametrize(("frequency", "last", "refused", "allowed", "next_day"), CALENDAR)
def test_frequency_cap_by_calendar(
    frequency: Frequency, last: datetime, refused: datetime, allowed: datetime, next_day: str
) -> None:
    far = refused + timedelta(days=365)
    deny = promote(refused, optin=token(frequency=frequency, last_sent_at=last, expires_at=far))
    assert not deny.allowed
    assert deny.rule == f"{PAID}.frequency"
    assert next_day in deny.reason
    assert_explained(deny)
    allow = promote(allowed, optin=token(frequency=frequency, last_sent_at=last, expires_at=far))
    assert allow.allowed
    assert allow.rule == PAID


def test_frequency_cap_in_the_token_time_zone() -> None:
    # 23:59 and 00:00 in Ho Chi Minh City (UTC+7) are the same UTC day.
    last = datetime(2026, 11, 21, 16, 59, tzinfo=UTC)  # 23:59 on the 21st, local
    now = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # 00:00 on the 22nd, local
    local = token(frequency=Frequency.DAILY, last_sent_at=last, timezone="Asia/Ho_Chi_Minh")
    assert promote(now, optin=local).allowed
    utc = token(frequency=Frequency.DAILY, last_sent_at=last)
    refused = promote(now, optin=utc)
    assert refused.rule == f"{PAID}.frequency"
    assert "UTC" in refused.reason


def test_unknown_token_time_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="time zone"):
        token(timezone="Mars/Olympus")


# --- recurring notifications until 2026-02-09, Marketing Message API from 2026-02-10 -------


def test_recurring_notifications_had_a_48_hour_cooldown() -> None:
    now = datetime(2026, 2, 9, 12, 0, tzinfo=UTC)
    daily = Frequency.DAILY
    early = promote(now, optin=token(frequency=daily, last_sent_at=now - timedelta(hours=48) + US))
    assert not early.allowed
    assert early.rule == f"{FREE}.cooldown"
    assert early.effective == date(2025, 9, 1)
    assert "48 hours" in early.reason
    assert_explained(early)
    sent = promote(now, optin=token(frequency=daily, last_sent_at=now - timedelta(hours=48)))
    assert sent.allowed
    assert sent.rule == FREE
    assert "paid" not in sent.reason
    assert_explained(sent)


def test_marketing_messages_from_2026_02_10_drop_the_cooldown() -> None:
    now = datetime(2026, 2, 10, 0, 0, tzinfo=UTC)
    last = datetime(2026, 2, 9, 23, 0, tzinfo=UTC)
    decision = promote(now, optin=token(frequency=Frequency.DAILY, last_sent_at=last))
    assert decision.allowed
    assert decision.rule == PAID
    before = promote(now - US, optin=token(frequency=Frequency.DAILY, last_sent_at=last))
    assert before.rule == f"{FREE}.cooldown"


def test_instagram_tokens_ended_on_2026_02_10() -> None:
    last_day = datetime(2026, 2, 9, 23, 59, 59, tzinfo=UTC)
    assert promote(last_day, "instagram", optin=token()).rule == "instagram.recurring_notifications"
    for now in (datetime(2026, 2, 10, tzinfo=UTC), NOW):
        decision = promote(now, "instagram", optin=token())
        assert not decision.allowed
        assert decision.rule == "instagram.marketing.none"
        assert decision.effective == date(2026, 2, 10)
        assert_explained(decision)


# --- opt-in requests: inside the window only, one per 7 days -------------------------------


def test_optin_request_inside_window() -> None:
    decision = ask("messenger", P.OPTIN_REQUEST, ago=timedelta(hours=24))
    assert decision.allowed
    assert (decision.rule, decision.messaging_type, decision.recipient_kind) == (
        f"{PAID}.optin_request",
        "UPDATE",
        "id",
    )
    assert_explained(decision)


def test_optin_request_outside_window() -> None:
    for ago in (timedelta(hours=24) + US, None):
        decision = ask("messenger", P.OPTIN_REQUEST, ago=ago)
        assert not decision.allowed
        assert decision.rule == f"{PAID}.optin_request.window_closed"
        assert_explained(decision)


def test_optin_request_once_per_seven_days() -> None:
    soon = ask("messenger", P.OPTIN_REQUEST, last_optin_request_at=NOW - timedelta(days=7) + US)
    assert not soon.allowed
    assert soon.rule == f"{PAID}.optin_request.too_soon"
    assert_explained(soon)
    later = ask("messenger", P.OPTIN_REQUEST, last_optin_request_at=NOW - timedelta(days=7))
    assert later.allowed


def test_instagram_optin_request_before_2026_02_10() -> None:
    decision = ask("instagram", P.OPTIN_REQUEST, now=datetime(2026, 2, 9, tzinfo=UTC))
    assert decision.allowed
    assert decision.rule == "instagram.recurring_notifications.optin_request"


# --- STOP / HỦY --------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [*META, "webchat"])
@pytest.mark.parametrize("purpose", PROACTIVE)
@pytest.mark.parametrize("ago", [INSIDE, OUTSIDE, None], ids=str)
def test_unsubscribed_gets_nothing_proactive(
    channel: str, purpose: Purpose, ago: timedelta | None
) -> None:
    decision = ask(channel, purpose, ago=ago, unsubscribed=True, optin=token())
    assert not decision.allowed
    assert decision.rule == f"{channel}.unsubscribed"
    assert "STOP" in decision.reason and "HỦY" in decision.explanation_vi
    assert_explained(decision)


@pytest.mark.parametrize("channel", [*META, "webchat"])
@pytest.mark.parametrize("purpose", [P.REPLY, P.HUMAN_REPLY])
def test_unsubscribed_still_gets_answers(channel: str, purpose: Purpose) -> None:
    decision = ask(channel, purpose, ago=INSIDE, unsubscribed=True)
    assert decision.allowed
    assert decision.messaging_type == "RESPONSE"


@pytest.mark.parametrize("channel", META)
def test_unsubscribed_answers_keep_their_platform_limits(channel: str) -> None:
    human = ask(channel, P.HUMAN_REPLY, ago=OUTSIDE, unsubscribed=True, written_by="human")
    assert human.allowed and human.tag == "HUMAN_AGENT"
    bot = ask(channel, P.REPLY, ago=OUTSIDE, unsubscribed=True)
    assert not bot.allowed and bot.rule == f"{channel}.human_agent.human_only"
    comment = ask(
        channel, P.PRIVATE_REPLY, unsubscribed=True, comment_created_at=NOW - INSIDE, ago=None
    )
    assert comment.allowed and comment.recipient_kind == "comment_id"
