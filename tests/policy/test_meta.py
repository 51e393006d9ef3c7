"""Messenger and Instagram: purpose x window, HUMAN_AGENT, utility tags, private replies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from chatcart.policy.schemas import Purpose
from tests.policy.build import INSIDE, META, NOW, OUTSIDE, UPDATES, US, ask, assert_explained

P = Purpose
COMMENTED = {"comment_created_at": NOW - timedelta(hours=1)}

# (channel, purpose, inside?) -> (allowed, rule, messaging_type, tag, recipient_kind)
# at NOW (2026-11-21), written by the bot, no opt-in token.
MATRIX: dict[tuple[str, Purpose, bool], tuple[bool, str, str, str | None, str]] = {}
for channel in META:
    for purpose in (P.REPLY, P.HUMAN_REPLY):
        MATRIX[channel, purpose, True] = (True, f"{channel}.window", "RESPONSE", None, "id")
        MATRIX[channel, purpose, False] = (
            False,
            f"{channel}.human_agent.human_only",
            "RESPONSE",
            None,
            "id",
        )
    for purpose in (P.PROMOTION, *UPDATES):
        MATRIX[channel, purpose, True] = (True, f"{channel}.window", "UPDATE", None, "id")
    for inside in (True, False):
        MATRIX[channel, P.PRIVATE_REPLY, inside] = (
            True,
            f"{channel}.private_reply",
            "RESPONSE",
            None,
            "comment_id",
        )
MATRIX.update(
    {
        ("messenger", P.PROMOTION, False): (
            False,
            "messenger.marketing_messages.not_connected",
            "RESPONSE",
            None,
            "id",
        ),
        ("messenger", P.ORDER_UPDATE, False): (
            False,
            "messenger.tag.post_purchase_update.retired",
            "RESPONSE",
            None,
            "id",
        ),
        ("messenger", P.EVENT_REMINDER, False): (
            False,
            "messenger.tag.confirmed_event_update.retired",
            "RESPONSE",
            None,
            "id",
        ),
        ("messenger", P.ACCOUNT_UPDATE, False): (
            False,
            "messenger.tag.account_update.retired",
            "RESPONSE",
            None,
            "id",
        ),
        ("messenger", P.OPTIN_REQUEST, True): (
            True,
            "messenger.marketing_messages.optin_request",
            "UPDATE",
            None,
            "id",
        ),
        ("messenger", P.OPTIN_REQUEST, False): (
            False,
            "messenger.marketing_messages.optin_request.window_closed",
            "RESPONSE",
            None,
            "id",
        ),
        ("instagram", P.PROMOTION, False): (
            False,
            "instagram.marketing.none",
            "RESPONSE",
            None,
            "id",
        ),
        ("instagram", P.OPTIN_REQUEST, True): (
            False,
            "instagram.marketing.none",
            "RESPONSE",
            None,
            "id",
        ),
        ("instagram", P.OPTIN_REQUEST, False): (
            False,
            "instagram.marketing.none",
            "RESPONSE",
            None,
            "id",
        ),
        **{
            ("instagram", purpose, False): (False, "instagram.tags.none", "RESPONSE", None, "id")
            for purpose in UPDATES
        },
    }
)


def test_matrix_is_complete() -> None:
    assert len(MATRIX) == len(META) * len(Purpose) * 2


@pytest.mark.parametrize(("channel", "purpose", "inside"), sorted(MATRIX))
def test_purpose_by_window_by_channel(channel: str, purpose: Purpose, inside: bool) -> None:
    decision = ask(channel, purpose, ago=INSIDE if inside else OUTSIDE, **COMMENTED)
    got = (
        decision.allowed,
        decision.rule,
        decision.messaging_type,
        decision.tag,
        decision.recipient_kind,
    )
    assert got == MATRIX[channel, purpose, inside]
    assert_explained(decision)
    assert decision.pack_version == "2026-11-21"


# --- HUMAN_AGENT: human-written, up to 7 days (platforms.md §2.2, §3) ----------------------


@pytest.mark.parametrize("channel", META)
@pytest.mark.parametrize("purpose", [P.HUMAN_REPLY, P.REPLY])
@pytest.mark.parametrize(
    "age", [timedelta(hours=24) + US, timedelta(days=3), timedelta(days=7)], ids=str
)
def test_human_agent_up_to_seven_days(channel: str, purpose: Purpose, age: timedelta) -> None:
    decision = ask(channel, purpose, ago=age, written_by="human")
    assert decision.allowed
    assert (decision.rule, decision.messaging_type, decision.tag) == (
        f"{channel}.human_agent",
        "MESSAGE_TAG",
        "HUMAN_AGENT",
    )
    assert decision.effective == date(2020, 3, 4)
    assert_explained(decision)


@pytest.mark.parametrize("channel", META)
def test_human_agent_after_seven_days_is_refused(channel: str) -> None:
    decision = ask(channel, P.HUMAN_REPLY, ago=timedelta(days=7) + US, written_by="human")
    assert not decision.allowed
    assert decision.rule == f"{channel}.human_agent.expired"
    assert "7 days" in decision.reason and "7 ngày" in decision.explanation_vi
    assert_explained(decision)


@pytest.mark.parametrize("channel", META)
@pytest.mark.parametrize("purpose", [P.HUMAN_REPLY, P.REPLY])
def test_human_agent_is_never_for_the_bot(channel: str, purpose: Purpose) -> None:
    at_seven = ask(channel, purpose, ago=timedelta(days=7), written_by="bot")
    assert not at_seven.allowed
    assert at_seven.rule == f"{channel}.human_agent.human_only"
    assert at_seven.tag is None
    after = ask(channel, purpose, ago=timedelta(days=7) + US, written_by="bot")
    assert after.rule == f"{channel}.window_closed"
    assert_explained(at_seven)
    assert_explained(after)


@pytest.mark.parametrize("channel", META)
def test_human_agent_needs_the_feature(channel: str) -> None:
    decision = ask(
        channel, P.HUMAN_REPLY, ago=OUTSIDE, written_by="human", human_agent_enabled=False
    )
    assert not decision.allowed
    assert decision.rule == f"{channel}.human_agent.not_enabled"
    assert "Human Agent" in decision.reason
    assert_explained(decision)
    inside = ask(channel, P.HUMAN_REPLY, ago=INSIDE, written_by="human", human_agent_enabled=False)
    assert inside.allowed and inside.tag is None


@pytest.mark.parametrize("channel", META)
def test_human_agent_needs_a_conversation(channel: str) -> None:
    decision = ask(channel, P.HUMAN_REPLY, ago=None, written_by="human")
    assert not decision.allowed
    assert decision.rule == f"{channel}.window_closed"
    assert "never" in decision.reason


@pytest.mark.parametrize("channel", META)
def test_window_boundary_is_inclusive(channel: str) -> None:
    at = ask(channel, P.REPLY, ago=timedelta(hours=24))
    assert at.allowed and at.rule == f"{channel}.window"
    after = ask(channel, P.REPLY, ago=timedelta(hours=24) + US, written_by="human")
    assert after.allowed and after.tag == "HUMAN_AGENT"


# --- the three utility tags: valid until 2026-04-26, refused from 2026-04-27 ---------------

LAST_DAY = datetime(2026, 4, 26, 23, 59, 59, tzinfo=UTC)
FIRST_DAY_GONE = datetime(2026, 4, 27, 0, 0, 0, tzinfo=UTC)
UTILITY = [
    (P.ORDER_UPDATE, "POST_PURCHASE_UPDATE", "post_purchase_update"),
    (P.EVENT_REMINDER, "CONFIRMED_EVENT_UPDATE", "confirmed_event_update"),
    (P.ACCOUNT_UPDATE, "ACCOUNT_UPDATE", "account_update"),
]


@pytest.mark.parametrize(("purpose", "tag", "stem"), UTILITY)
@pytest.mark.parametrize("ago", [timedelta(hours=24) + US, timedelta(days=10), timedelta(days=400)])
def test_utility_tag_on_its_last_day(purpose: Purpose, tag: str, stem: str, ago: timedelta) -> None:
    decision = ask("messenger", purpose, now=LAST_DAY, ago=ago)
    assert decision.allowed
    assert (decision.rule, decision.messaging_type, decision.tag) == (
        f"messenger.tag.{stem}",
        "MESSAGE_TAG",
        tag,
    )
    assert "26 April 2026" in decision.reason
    assert "26/04/2026" in decision.explanation_vi
    assert_explained(decision)


@pytest.mark.parametrize(("purpose", "tag", "stem"), UTILITY)
@pytest.mark.parametrize("now", [FIRST_DAY_GONE, NOW])
def test_utility_tag_retired(purpose: Purpose, tag: str, stem: str, now: datetime) -> None:
    decision = ask("messenger", purpose, now=now, ago=timedelta(days=2))
    assert not decision.allowed
    assert decision.rule == f"messenger.tag.{stem}.retired"
    assert decision.effective == date(2026, 4, 27)
    assert decision.tag is None
    assert f"Meta retired the {tag} tag on 27 April 2026" in decision.reason
    assert tag in decision.explanation_vi and "27/04/2026" in decision.explanation_vi
    assert_explained(decision)


def test_retired_tag_sentence() -> None:
    decision = ask("messenger", P.ORDER_UPDATE, now=FIRST_DAY_GONE, ago=timedelta(days=2))
    assert decision.reason.startswith(
        "Meta retired the POST_PURCHASE_UPDATE tag on 27 April 2026; an order update outside the "
        "24-hour window can no longer be sent on Messenger."
    )


def test_tag_dates_go_by_the_utc_day() -> None:
    # 06:00 on the 27th in Vietnam is 23:00 on the 26th in UTC: still the last day.
    hanoi = timezone(timedelta(hours=7))
    local_27th = datetime(2026, 4, 27, 6, 0, tzinfo=hanoi)
    assert ask("messenger", P.ORDER_UPDATE, now=local_27th, ago=timedelta(days=2)).allowed
    local_27th_late = datetime(2026, 4, 27, 7, 0, tzinfo=hanoi)  # 00:00 UTC on the 27th
    later = ask("messenger", P.ORDER_UPDATE, now=local_27th_late, ago=timedelta(days=2))
    assert later.rule == "messenger.tag.post_purchase_update.retired"


@pytest.mark.parametrize(("purpose", "tag", "stem"), UTILITY)
def test_utility_tag_needs_a_conversation(purpose: Purpose, tag: str, stem: str) -> None:
    decision = ask("messenger", purpose, now=LAST_DAY, ago=None)
    assert not decision.allowed
    assert decision.rule == "messenger.window_closed"


@pytest.mark.parametrize(("purpose", "tag", "stem"), UTILITY)
@pytest.mark.parametrize("now", [LAST_DAY, FIRST_DAY_GONE])
@pytest.mark.parametrize("written_by", ["bot", "human"])
def test_instagram_never_had_utility_tags(
    purpose: Purpose, tag: str, stem: str, now: datetime, written_by: str
) -> None:
    decision = ask("instagram", purpose, now=now, ago=timedelta(days=2), written_by=written_by)
    assert not decision.allowed
    assert decision.rule == "instagram.tags.none"
    assert decision.tag is None
    assert "never" in decision.reason and tag in decision.reason
    assert_explained(decision)
    inside = ask("instagram", purpose, now=now, ago=timedelta(hours=24))
    assert inside.allowed and inside.messaging_type == "UPDATE"


# --- private replies: one per comment, within 7 days (platforms.md §2.6, §3) ---------------


@pytest.mark.parametrize("channel", META)
@pytest.mark.parametrize("ago", [None, INSIDE, timedelta(days=30)], ids=str)
@pytest.mark.parametrize("comment_age", [timedelta(0), timedelta(days=7)], ids=str)
def test_first_private_reply_within_seven_days(
    channel: str, ago: timedelta | None, comment_age: timedelta
) -> None:
    decision = ask(channel, P.PRIVATE_REPLY, ago=ago, comment_created_at=NOW - comment_age)
    assert decision.allowed
    assert (decision.rule, decision.recipient_kind, decision.tag) == (
        f"{channel}.private_reply",
        "comment_id",
        None,
    )
    assert_explained(decision)


@pytest.mark.parametrize("channel", META)
def test_private_reply_after_seven_days(channel: str) -> None:
    decision = ask(
        channel, P.PRIVATE_REPLY, comment_created_at=NOW - timedelta(days=7) - US, ago=INSIDE
    )
    assert not decision.allowed
    assert decision.rule == f"{channel}.private_reply.expired"
    assert_explained(decision)


@pytest.mark.parametrize("channel", META)
@pytest.mark.parametrize("sent", [1, 2])
def test_second_private_reply_is_refused(channel: str, sent: int) -> None:
    decision = ask(
        channel, P.PRIVATE_REPLY, comment_created_at=NOW - INSIDE, private_replies_sent=sent
    )
    assert not decision.allowed
    assert decision.rule == f"{channel}.private_reply.already_sent"
    assert_explained(decision)


@pytest.mark.parametrize("channel", META)
def test_private_reply_without_comment_time(channel: str) -> None:
    decision = ask(channel, P.PRIVATE_REPLY)
    assert not decision.allowed
    assert decision.rule == f"{channel}.private_reply.no_comment"
    assert_explained(decision)


# --- before the oldest modelled rule ------------------------------------------------------


@pytest.mark.parametrize("channel", META)
def test_no_decision_before_the_pack_starts(channel: str) -> None:
    day_before = datetime(2025, 8, 31, 23, 59, 59, tzinfo=UTC)
    decision = ask(channel, P.REPLY, now=day_before)
    assert not decision.allowed
    assert decision.rule == f"{channel}.before_pack"
    assert decision.effective == date(2025, 9, 1)
    assert_explained(decision)
    assert ask(channel, P.REPLY, now=datetime(2025, 9, 1, tzinfo=UTC)).allowed
