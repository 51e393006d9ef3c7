from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from chatcart.policy import packs
from chatcart.policy.packs import ChannelRules
from chatcart.policy.service import decide

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EFFECTIVE = date(2026, 1, 1)


@pytest.fixture
def windowed(monkeypatch: pytest.MonkeyPatch) -> ChannelRules:
    rules = ChannelRules(channel="x", version="t", effective=EFFECTIVE, window_hours=24)
    monkeypatch.setitem(packs.PACKS, "x", rules)
    return rules


@pytest.mark.parametrize("last", [None, datetime(2020, 1, 1, tzinfo=UTC)])
@pytest.mark.parametrize("purpose", ["reply", "broadcast"])
def test_webchat_is_always_open(last: datetime | None, purpose: str) -> None:
    decision = decide("webchat", last, purpose, NOW)
    assert decision.allowed
    assert decision.rule == "webchat.open"
    assert decision.effective == packs.PACKS["webchat"].effective


def test_unknown_channel_is_refused_with_reason() -> None:
    decision = decide("carrier-pigeon", NOW, "reply", NOW)
    assert not decision.allowed
    assert decision.rule == "carrier-pigeon.unknown"
    assert "carrier-pigeon" in decision.reason


@pytest.mark.usefixtures("windowed")
@pytest.mark.parametrize("age", [timedelta(0), timedelta(hours=1), timedelta(hours=23, minutes=59)])
def test_inside_window_reply_is_response(age: timedelta) -> None:
    decision = decide("x", NOW - age, "reply", NOW)
    assert decision.allowed
    assert decision.rule == "x.window"
    assert decision.effective == EFFECTIVE
    assert decision.messaging_type == "RESPONSE"


@pytest.mark.usefixtures("windowed")
@pytest.mark.parametrize("purpose", ["update", "broadcast", "follow_up"])
def test_inside_window_other_purposes_are_update(purpose: str) -> None:
    decision = decide("x", NOW - timedelta(hours=2), purpose, NOW)
    assert decision.allowed
    assert decision.messaging_type == "UPDATE"


@pytest.mark.usefixtures("windowed")
@pytest.mark.parametrize(
    "age", [timedelta(hours=24), timedelta(hours=24, seconds=1), timedelta(days=9)]
)
def test_at_or_after_window_is_refused(age: timedelta) -> None:
    decision = decide("x", NOW - age, "reply", NOW)
    assert not decision.allowed
    assert decision.rule == "x.window_closed"
    assert decision.effective == EFFECTIVE
    assert decision.reason.strip()
    assert "24" in decision.reason


@pytest.mark.usefixtures("windowed")
def test_never_wrote_is_refused() -> None:
    decision = decide("x", None, "reply", NOW)
    assert not decision.allowed
    assert decision.rule == "x.window_closed"
    assert decision.reason


@pytest.mark.usefixtures("windowed")
def test_window_compares_instants_across_zones_and_naive_utc() -> None:
    # 23h before NOW, written in +07:00 and as naive UTC (what SQLite returns).
    last_local = (NOW - timedelta(hours=23)).astimezone(timezone(timedelta(hours=7)))
    assert decide("x", last_local, "reply", NOW).allowed
    assert decide("x", (NOW - timedelta(hours=23)).replace(tzinfo=None), "reply", NOW).allowed
    last_local_old = (NOW - timedelta(hours=25)).astimezone(timezone(timedelta(hours=7)))
    assert not decide("x", last_local_old, "reply", NOW).allowed
