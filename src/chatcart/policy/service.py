"""The policy room's only door: decide per message, before any send."""

from __future__ import annotations

from datetime import datetime, timedelta

from chatcart.kit.clock import as_utc
from chatcart.policy.packs import PACKS
from chatcart.policy.schemas import Decision


def decide(channel: str, last_inbound_at: datetime | None, purpose: str, now: datetime) -> Decision:
    rules = PACKS.get(channel)
    if rules is None:
        return Decision(
            allowed=False,
            rule=f"{channel}.unknown",
            reason=f"chatcart has no rules for the {channel} channel, so it sends nothing there.",
        )
    if rules.window_hours is None:
        return Decision(allowed=True, rule=f"{channel}.open", effective=rules.effective)
    in_window = last_inbound_at is not None and as_utc(now) - as_utc(last_inbound_at) < timedelta(
        hours=rules.window_hours
    )
    if in_window:
        messaging_type = "RESPONSE" if purpose == "reply" else "UPDATE"
        return Decision(
            allowed=True,
            rule=f"{channel}.window",
            effective=rules.effective,
            messaging_type=messaging_type,
        )
    return Decision(
        allowed=False,
        rule=f"{channel}.window_closed",
        effective=rules.effective,
        reason=(
            f"The person last wrote more than {rules.window_hours} hours ago; "
            f"{channel} allows no standard message after that."
        ),
    )
