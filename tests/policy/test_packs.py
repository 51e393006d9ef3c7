"""The packs as data, the rates, and invariants over a sweep of requests.

hypothesis is not installed in this venv, so the properties run over a parametrized sweep.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from limits import parse

from chatcart.kit.errors import NotFound
from chatcart.policy import packs
from chatcart.policy.errors import UnknownChannel
from chatcart.policy.schemas import (
    ANSWERS,
    Frequency,
    OptinToken,
    Pack,
    PolicyRequest,
    Purpose,
    Rule,
    TagRule,
)
from chatcart.policy.service import decide, rules_for, send_rate
from tests.policy.build import US, assert_explained

CHANNELS = ("messenger", "instagram", "webchat")
NOWS = [
    datetime(2025, 9, 1, tzinfo=UTC),
    datetime(2026, 2, 9, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 2, 10, tzinfo=UTC),
    datetime(2026, 4, 26, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 4, 27, tzinfo=UTC),
    datetime(2026, 11, 21, 12, tzinfo=UTC),
    datetime(2027, 6, 1, tzinfo=UTC),
]
AGES: list[timedelta | None] = [
    None,
    timedelta(0),
    timedelta(hours=24),
    timedelta(hours=24) + US,
    timedelta(days=7),
    timedelta(days=7) + US,
    timedelta(days=400),
]


def _tokens(now: datetime) -> list[OptinToken | None]:
    later = now + timedelta(days=30)
    return [
        None,
        OptinToken(expires_at=later, frequency=Frequency.DAILY),
        OptinToken(expires_at=later, frequency=Frequency.WEEKLY, status="stopped"),
        OptinToken(expires_at=now, frequency=Frequency.MONTHLY),
        OptinToken(expires_at=later, frequency=Frequency.DAILY, last_sent_at=now - US),
        OptinToken(
            expires_at=later, frequency=Frequency.WEEKLY, last_sent_at=now - timedelta(days=8)
        ),
    ]


def _requests(channel: str, now: datetime, purpose: Purpose) -> list[PolicyRequest]:
    out = []
    for age, writer, unsubscribed, connected, optin, comment in itertools.product(
        AGES,
        ("bot", "human"),
        (False, True),
        (False, True),
        _tokens(now) if purpose is Purpose.PROMOTION else [None],
        [None, timedelta(days=1), timedelta(days=8)]
        if purpose is Purpose.PRIVATE_REPLY
        else [None],
    ):
        out.append(
            PolicyRequest(
                channel=channel,
                purpose=purpose,
                now=now,
                last_interaction_at=None if age is None else now - age,
                written_by=writer,
                unsubscribed=unsubscribed,
                # account settings, swept together
                human_agent_enabled=connected,
                marketing_api=connected,
                optin=optin,
                comment_created_at=None if comment is None else now - comment,
            )
        )
    return out


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("now", NOWS, ids=lambda now: now.isoformat())
def test_a_promotion_is_never_tagged(channel: str, now: datetime) -> None:
    for request in _requests(channel, now, Purpose.PROMOTION):
        decision = decide(request)
        assert decision.tag is None, request
        assert decision.messaging_type != "MESSAGE_TAG", request


CHATCART_OWN = (".unsubscribed", ".open", ".unknown")


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("purpose", list(Purpose))
def test_every_decision_is_explained_and_consistent(channel: str, purpose: Purpose) -> None:
    pack = rules_for(channel)
    for now in NOWS:
        for request in _requests(channel, now, purpose):
            decision = decide(request)
            assert_explained(decision)
            assert decision.rule.startswith(f"{channel}.")
            assert decision.pack_version == pack.version
            assert (decision.tag is not None) == (decision.messaging_type == "MESSAGE_TAG")
            if not decision.allowed:
                assert decision.tag is None
                assert decision.recipient_kind == "id"
            elif decision.tag is not None:
                assert purpose is not Purpose.PROMOTION
                if decision.tag == "HUMAN_AGENT":
                    assert request.written_by == "human"
                    assert purpose in ANSWERS
            if decision.recipient_kind == "comment_id":
                assert purpose is Purpose.PRIVATE_REPLY
            if decision.endpoint == "marketing_message_api":
                assert request.marketing_api
                assert decision.recipient_kind == "notification_messages_token"
            if decision.tag == "HUMAN_AGENT":
                assert request.human_agent_enabled
            if decision.recipient_kind == "notification_messages_token":
                assert purpose is Purpose.PROMOTION
                # Instagram's tokens ended with recurring notifications on 2026-02-10.
                assert channel == "messenger" or now.date() < date(2026, 2, 10)
            if request.unsubscribed and purpose not in (*ANSWERS, Purpose.PRIVATE_REPLY):
                assert not decision.allowed
            # A platform rule that decided was in force on the day of the send.
            if not decision.rule.endswith(CHATCART_OWN):
                assert decision.effective is not None
                assert decision.effective <= now.date(), decision


# --- packs as data ------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_rules_for_lists_dated_rules(channel: str) -> None:
    pack = rules_for(channel)
    assert pack.channel == channel
    rules = pack.rules()
    assert rules
    assert len({rule.id for rule in rules}) == len(rules)
    for rule in rules:
        assert rule.id.startswith(f"{channel}.")
        assert rule.source
        assert rule.effective_until is None or rule.effective_from <= rule.effective_until


def test_in_force_turns_on_the_dates() -> None:
    messenger = rules_for("messenger")
    last_day = {rule.id for rule in messenger.in_force(date(2026, 4, 26))}
    first_gone = {rule.id for rule in messenger.in_force(date(2026, 4, 27))}
    for stem in ("post_purchase_update", "confirmed_event_update", "account_update"):
        assert f"messenger.tag.{stem}" in last_day - first_gone
        assert f"messenger.tag.{stem}.retired" in first_gone - last_day
    assert "messenger.human_agent" in last_day & first_gone
    feb9 = {rule.id for rule in messenger.in_force(date(2026, 2, 9))}
    feb10 = {rule.id for rule in messenger.in_force(date(2026, 2, 10))}
    assert "messenger.recurring_notifications" in feb9 - feb10
    assert "messenger.marketing_messages" in feb10 - feb9


def test_instagram_has_only_human_agent() -> None:
    assert [tag.tag for tag in rules_for("instagram").tags] == ["HUMAN_AGENT"]


def test_unknown_channel_has_no_rules() -> None:
    with pytest.raises(UnknownChannel) as caught:
        rules_for("fax")
    assert isinstance(caught.value, NotFound)
    with pytest.raises(UnknownChannel):
        send_rate("fax")


def test_a_pack_refuses_a_tag_that_carries_promotions() -> None:
    bad = TagRule(
        id="x.tag.deals",
        tag="DEALS",
        purposes=frozenset({Purpose.PROMOTION}),
        effective_from=date(2026, 1, 1),
        source="test",
    )
    base = packs.window_only("x", version="t", effective=date(2026, 1, 1))
    with pytest.raises(ValueError, match="promotion"):
        Pack(**{**base.__dict__, "tags": (bad,)})


def test_a_pack_is_open_or_windowed() -> None:
    base = packs.window_only("x", version="t", effective=date(2026, 1, 1))
    with pytest.raises(ValueError, match="open or has a window"):
        Pack(
            **{
                **base.__dict__,
                "open": Rule(id="x.open", effective_from=date(2026, 1, 1), source="t"),
            }
        )


# --- send rates (platforms.md §2.10, §3) -------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "media", "purpose", "limit"),
    [
        ("messenger", False, None, "300/second"),
        ("messenger", True, None, "10/second"),
        ("instagram", False, None, "300/second"),
        ("instagram", True, None, "10/second"),
        ("instagram", False, Purpose.PRIVATE_REPLY, "750/hour"),
        ("instagram", True, Purpose.PRIVATE_REPLY, "750/hour"),
        ("messenger", False, Purpose.PRIVATE_REPLY, "750/hour"),
        ("messenger", False, Purpose.PROMOTION, "300/second"),
        ("webchat", False, Purpose.PRIVATE_REPLY, "100/second"),
        ("instagram", False, "private_reply", "750/hour"),
    ],
)
def test_send_rate(channel: str, media: bool, purpose: Purpose | str | None, limit: str) -> None:
    rate = send_rate(channel, media, purpose=purpose)
    assert rate.limit == limit
    parsed = parse(rate.limit)
    assert (parsed.amount, parsed.get_expiry()) == (rate.count, rate.seconds)
    assert rate.source
