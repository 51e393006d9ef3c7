"""Small builders for policy tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chatcart.policy.schemas import Decision, PolicyRequest, Purpose
from chatcart.policy.service import decide

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
INSIDE = timedelta(hours=1)
OUTSIDE = timedelta(days=2)
US = timedelta(microseconds=1)

META = ("messenger", "instagram")
PROACTIVE = (
    Purpose.PROMOTION,
    Purpose.ORDER_UPDATE,
    Purpose.EVENT_REMINDER,
    Purpose.ACCOUNT_UPDATE,
    Purpose.OPTIN_REQUEST,
)
UPDATES = (Purpose.ORDER_UPDATE, Purpose.EVENT_REMINDER, Purpose.ACCOUNT_UPDATE)


def ask(
    channel: str,
    purpose: Purpose | str,
    *,
    now: datetime = NOW,
    ago: timedelta | None = INSIDE,
    **fields: Any,
) -> Decision:
    """decide() for a person who last wrote `ago` before `now` (None: never)."""
    last = None if ago is None else now - ago
    return decide(
        PolicyRequest(channel=channel, purpose=purpose, now=now, last_interaction_at=last, **fields)
    )


def assert_explained(decision: Decision) -> None:
    """Every decision names its rule and date and says why, in English and Vietnamese."""
    assert decision.rule
    assert decision.effective is not None
    assert decision.reason.strip()
    assert decision.explanation_vi.strip()
    assert decision.reason != decision.explanation_vi
    for text in (decision.reason, decision.explanation_vi):
        assert "{" not in text and "}" not in text
