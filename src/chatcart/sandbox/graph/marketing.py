"""Marketing messages: opt-in tokens (`recipient.notification_messages_token`).

Reading of platforms.md 2.4 (and 2.2 for the window), applied by the date of the send on the
sandbox clock:

1. Opt-in request (template_type `notification_messages`): only inside the 24 h standard
   window, whatever messaging_type/tag says [V]; at most one request per person per topic
   title per 7 days [V] (violations → 100 [U code]). Opting in does not open the window [V].
2. Send API with `recipient.notification_messages_token`, sent before 2026-02-10 00:00 UTC
   (recurring notifications alive):
   - the token must exist and belong to the sending account, else 100 [U code];
   - status ACTIVE (a STOPPED token — the person turned messages off — is rejected, 2.4
     "opted-out users error") → 100 [U code];
   - not expired: allowed iff now < token_expiry (the expiry the opt-in webhook announced:
     DAILY 6 months, WEEKLY 9 months, MONTHLY 12 months [S]) → 100 [U code];
   - cadence: at most one message per calendar day / week (ISO, Monday) / month for DAILY /
     WEEKLY / MONTHLY, in the token's notification_messages_timezone [S; timezone U], AND
     at least 24 h between two sends — 48 h for sends from 2025-09-01 [V]. Allowed iff now >=
     next eligible time (inclusive). Violations → 100 [U code];
   - the 24 h window and tags do not apply; a `tag` with a token is rejected (100 [U]).
3. The same send from 2026-02-10 00:00 UTC → 100: recurring notifications were retired [V date,
   U code]. Their replacement, the paid Marketing Message API, sends through
   `POST /act_<AD_ACCOUNT_ID>/messages` with campaigns and an ad account (2.4); its request
   shape is not in platforms.md, so the sandbox does not fake it (the path answers Graph's
   unknown-path error). Our adapter must therefore not rely on tokens after that date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatcart.sandbox.graph.errors import GraphError, invalid_parameter
from chatcart.sandbox.graph.model import Frequency, OptinToken

RECURRING_RETIRED_AT = datetime(2026, 2, 10, tzinfo=UTC)
COOLDOWN_48H_FROM = datetime(2025, 9, 1, tzinfo=UTC)
OPTIN_REQUEST_INTERVAL = timedelta(days=7)
TOKEN_LIFETIME: dict[Frequency, timedelta] = {
    "DAILY": timedelta(days=182),  # "6 months" [S]
    "WEEKLY": timedelta(days=273),  # "9 months" [S]
    "MONTHLY": timedelta(days=365),  # "12 months" [S]
}


def min_gap(at: datetime) -> timedelta:
    """Per-subscriber cooldown between two sends: 24 h, then 48 h from 2025-09-01 [V]."""
    return timedelta(hours=48) if at >= COOLDOWN_48H_FROM else timedelta(hours=24)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _period_start(day: date, frequency: Frequency) -> date:
    if frequency == "DAILY":
        return day
    if frequency == "WEEKLY":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_period(start: date, frequency: Frequency) -> date:
    if frequency == "DAILY":
        return start + timedelta(days=1)
    if frequency == "WEEKLY":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def next_eligible(token: OptinToken) -> datetime | None:
    """When the token may carry its next message (None: now)."""
    if token.last_sent_at is None:
        return None
    zone = _zone(token.timezone)
    local = token.last_sent_at.astimezone(zone)
    start = _period_start(local.date(), token.frequency)
    nxt = _next_period(start, token.frequency)
    period_end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)
    return max(period_end, token.last_sent_at + min_gap(token.last_sent_at))


def check_token_send(token: OptinToken | None, account_id: str, now: datetime) -> OptinToken:
    if now >= RECURRING_RETIRED_AT:
        raise invalid_parameter(
            "Recurring notifications (notification_messages_token) are no longer supported",
            reason="recurring notifications retired on 2026-02-10 (2.4); the paid Marketing "
            "Message API is not faked",
        )
    if token is None or token.account_id != account_id:
        raise invalid_parameter(
            "Invalid notification_messages_token",
            reason="unknown token, or a token of another account (2.4)",
        )
    if token.status != "ACTIVE":
        raise invalid_parameter(
            "The person has stopped marketing messages",
            reason="token status STOPPED: the person turned marketing messages off (2.4)",
        )
    if now >= token.expires_at:
        raise invalid_parameter(
            "The notification_messages_token has expired",
            reason=f"token expired at {token.expires_at.isoformat()} (2.4)",
        )
    eligible = next_eligible(token)
    if eligible is not None and now < eligible:
        raise invalid_parameter(
            f"This token cannot be used again before {eligible.isoformat()}",
            reason=f"{token.frequency} cadence and {min_gap(token.last_sent_at or now)} cooldown"
            f" since the last send at {token.last_sent_at} (2.4)",
        )
    return token


def check_optin_request(last_request: datetime | None, title: str, now: datetime) -> None:
    if last_request is not None and now - last_request < OPTIN_REQUEST_INTERVAL:
        raise GraphError(
            100,
            "(#100) An opt-in request with this title was already sent to this person this week",
            reason=f"one opt-in request per person per topic ({title!r}) per week (2.4)",
        )
