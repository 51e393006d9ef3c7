"""The door itself: webchat, unknown channels, and the plain window logic (a window-only pack)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from chatcart.policy import packs
from chatcart.policy.packs import window_only
from chatcart.policy.schemas import Decision, Pack, PolicyRequest, Purpose
from chatcart.policy.service import decide
from tests.policy.build import US, assert_explained

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EFFECTIVE = date(2026, 1, 1)


def _decide(
    channel: str, last: datetime | None, purpose: Purpose | str, now: datetime = NOW
) -> Decision:
    return decide(
        PolicyRequest(channel=channel, purpose=purpose, now=now, last_interaction_at=last)
    )


@pytest.fixture
def windowed(monkeypatch: pytest.MonkeyPatch) -> Pack:
    rules = window_only("x", version="t", effective=EFFECTIVE, hours=24)
    monkeypatch.setitem(packs.PACKS, "x", rules)
    return rules


@pytest.mark.parametrize("last", [None, datetime(2020, 1, 1, tzinfo=UTC)])
@pytest.mark.parametrize("purpose", list(Purpose))
def test_webchat_is_always_open(last: datetime | None, purpose: Purpose) -> None:
    decision = _decide("webchat", last, purpose)
    assert decision.allowed
    assert decision.rule == "webchat.open"
    assert decision.effective == packs.PACKS["webchat"].effective
    assert decision.tag is None
    assert decision.recipient_kind == "id"
    assert_explained(decision)


def test_unknown_channel_is_refused_with_reason() -> None:
    decision = _decide("carrier-pigeon", NOW, "reply")
    assert not decision.allowed
    assert decision.rule == "carrier-pigeon.unknown"
    assert "carrier-pigeon" in decision.reason
    assert "carrier-pigeon" in decision.explanation_vi
    assert_explained(decision)


@pytest.mark.usefixtures("windowed")
@pytest.mark.parametrize(
    "age",
    [timedelta(0), timedelta(hours=1), timedelta(hours=23, minutes=59), timedelta(hours=24)],
)
def test_inside_window_reply_is_response(age: timedelta) -> None:
    decision = _decide("x", NOW - age, "reply")
    assert decision.allowed
    assert decision.rule == "x.window"
    assert decision.effective == EFFECTIVE
    assert decision.messaging_type == "RESPONSE"
    assert decision.pack_version == "t"


@pytest.mark.usefixtures("windowed")
@pytest.mark.parametrize(
    "purpose",
    [Purpose.PROMOTION, Purpose.ORDER_UPDATE, Purpose.EVENT_REMINDER, Purpose.ACCOUNT_UPDATE],
)
def test_inside_window_other_purposes_are_update(purpose: Purpose) -> None:
    decision = _decide("x", NOW - timedelta(hours=2), purpose)
    assert decision.allowed
    assert decision.messaging_type == "UPDATE"


@pytest.mark.usefixtures("windowed")
@pytest.mark.parametrize(
    "age", [timedelta(hours=24) + US, timedelta(hours=24, seconds=1), timedelta(days=9)]
)
def test_after_window_is_refused(age: timedelta) -> None:
    # platforms.md §2.2: "allowed iff age <= 24h" -- exactly 24 h is still inside (above).
    decision = _decide("x", NOW - age, "reply")
    assert not decision.allowed
    assert decision.rule == "x.window_closed"
    assert decision.effective == EFFECTIVE
    assert "24 hours" in decision.reason
    assert "24 giờ" in decision.explanation_vi
    assert_explained(decision)


@pytest.mark.usefixtures("windowed")
def test_never_wrote_is_refused() -> None:
    decision = _decide("x", None, "reply")
    assert not decision.allowed
    assert decision.rule == "x.window_closed"
    assert "never" in decision.reason
    assert_explained(decision)


@pytest.mark.usefixtures("windowed")
def test_private_reply_on_a_channel_without_them_is_refused() -> None:
    decision = _decide("x", NOW, "private_reply")
    assert not decision.allowed
    assert decision.rule == "x.private_reply.none"
    assert_explained(decision)


@pytest.mark.usefixtures("windowed")
def test_window_compares_instants_across_zones_and_naive_utc() -> None:
    # 23h before NOW, written in +07:00 and as naive UTC (what SQLite returns).
    plus7 = timezone(timedelta(hours=7))
    last_local = (NOW - timedelta(hours=23)).astimezone(plus7)
    assert _decide("x", last_local, "reply").allowed
    assert _decide("x", (NOW - timedelta(hours=23)).replace(tzinfo=None), "reply").allowed
    last_local_old = (NOW - timedelta(hours=25)).astimezone(plus7)
    assert not _decide("x", last_local_old, "reply").allowed
    # `now` in another zone is the same instant.
    assert _decide("x", NOW - timedelta(hours=24), "reply", NOW.astimezone(plus7)).allowed
    assert not _decide("x", NOW - timedelta(hours=24) - US, "reply", NOW.astimezone(plus7)).allowed


def test_request_validation() -> None:
    with pytest.raises(ValidationError):  # time must be passed in, tz-aware
        PolicyRequest(channel="x", purpose="reply", now=NOW.replace(tzinfo=None))
    with pytest.raises(ValidationError):
        PolicyRequest(channel="x", purpose="broadcast", now=NOW)
    with pytest.raises(ValidationError):
        PolicyRequest(channel="x", purpose="private_reply", now=NOW, private_replies_sent=-1)
    with pytest.raises(ValidationError):
        PolicyRequest(channel="x", purpose="reply", now=NOW, written_by="robot")
    request = PolicyRequest(
        channel="x", purpose="reply", now=NOW, comment_created_at=datetime(2026, 3, 1)
    )
    assert request.comment_created_at == datetime(2026, 3, 1, tzinfo=UTC)


def test_decision_serialises() -> None:
    decision = _decide("messenger", NOW - timedelta(days=30), "order_update")
    assert decision.model_validate_json(decision.model_dump_json()) == decision
