"""Who may be messaged, when: the 24 h window, message tags, private replies
(platforms.md 2.2, 2.6, 3 and the 2026-04-27 correction at the top of the file).

Boundary semantics (2.2 "allowed iff age <= 24h"): every age limit is inclusive.
  age = now − last user interaction (or comment creation)
  RESPONSE / UPDATE / sender_action : allowed iff age <= 24 h
  MESSAGE_TAG + HUMAN_AGENT         : allowed iff the app has the human_agent feature and
                                      age <= 7 d (Messenger and Instagram)
  MESSAGE_TAG + CONFIRMED_EVENT_UPDATE | POST_PURCHASE_UPDATE | ACCOUNT_UPDATE (Messenger):
      send date (sandbox clock, UTC) <  2026-04-27 00:00:00 → allowed at any age
      send date (sandbox clock, UTC) >= 2026-04-27 00:00:00 → 100 "Invalid parameter",
      even inside the window (the correction: "every Send API request carrying the tags")
  Instagram: only HUMAN_AGENT; any other tag → 100 [U: 3 says the utility tags "are not
      usable"; the code is not documented].
  Legacy tags removed on 2020-03-04 and unknown tags → 100 (2.2 "[U exact subcode]").
  Private reply (recipient.comment_id / post_id): once per object, iff object age <= 7 d,
      never to the Page's own comment (2.6, 3).
A user with no recorded interaction is outside every window (age = ∞).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatcart.sandbox.graph.errors import (
    GraphError,
    invalid_parameter,
    outside_window,
    permission_denied,
)
from chatcart.sandbox.graph.model import Account, FeedObject, Platform

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
UTILITY_TAGS_RETIRED_AT = datetime(2026, 4, 27, tzinfo=UTC)  # correction, top of platforms.md

MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
NOTIFICATION_TYPES = frozenset({"REGULAR", "SILENT_PUSH", "NO_PUSH"})
HUMAN_AGENT = "HUMAN_AGENT"
UTILITY_TAGS = frozenset({"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"})
# 2.2: removed when the Messenger policy of 2020-03-04 took effect.
LEGACY_TAGS = frozenset(
    {
        "BUSINESS_PRODUCTIVITY", "COMMUNITY_ALERT", "CONFIRMED_EVENT_REMINDER",
        "NON_PROMOTIONAL_SUBSCRIPTION", "PAIRING_UPDATE", "APPLICATION_UPDATE", "PAYMENT_UPDATE",
        "PERSONAL_FINANCE_UPDATE", "SHIPPING_UPDATE", "RESERVATION_UPDATE", "ISSUE_RESOLUTION",
        "APPOINTMENT_UPDATE", "GAME_EVENT", "TRANSPORTATION_UPDATE",
        "FEATURE_FUNCTIONALITY_UPDATE", "TICKET_UPDATE",
    }
)  # fmt: skip


def within(last: datetime | None, now: datetime, limit: timedelta) -> bool:
    """Inclusive: age == limit is still allowed (2.2 "age <= 24h")."""
    return last is not None and now - last <= limit


def check_tag(tag: object, platform: Platform, now: datetime) -> str:
    """Validate `tag` by itself (before any window); returns it. 2.2, correction, 3."""
    if not isinstance(tag, str) or not tag:
        raise invalid_parameter(reason="tag must be a non-empty string (2.2)")
    if tag == HUMAN_AGENT:
        return tag
    if tag in UTILITY_TAGS:
        if platform == "instagram":
            raise invalid_parameter(
                reason=f"{tag}: Instagram accepts only HUMAN_AGENT outside the window (3) [U]"
            )
        if now >= UTILITY_TAGS_RETIRED_AT:
            raise invalid_parameter(
                reason=f"{tag} retired on 2026-04-27: every request carrying it gets code 100 "
                "(platforms.md correction, top of file)"
            )
        return tag
    if tag in LEGACY_TAGS:
        raise invalid_parameter(reason=f"{tag} was removed on 2020-03-04 (2.2)")
    raise invalid_parameter(reason=f"unknown message tag {tag!r} (2.2)")


def check_window(
    *,
    platform: Platform,
    tag: str | None,
    last_interaction: datetime | None,
    now: datetime,
    human_agent_enabled: bool,
) -> None:
    """The 24 h standard window and what each tag allows outside it (2.2, 3)."""
    instagram = platform == "instagram"
    if tag is None:
        if not within(last_interaction, now, STANDARD_WINDOW):
            raise outside_window(
                instagram=instagram,
                reason=f"last user interaction {_age(last_interaction, now)} ago > 24 h (2.2)",
            )
        return
    if tag == HUMAN_AGENT:
        if not human_agent_enabled:
            raise permission_denied(
                "The HUMAN_AGENT tag requires the Human Agent permission",
                reason="HUMAN_AGENT needs the app's human_agent feature (2.2) [U exact code]",
            )
        if not within(last_interaction, now, HUMAN_AGENT_WINDOW):
            raise outside_window(
                instagram=instagram,
                reason=f"HUMAN_AGENT: last user message {_age(last_interaction, now)} ago > 7 d",
            )
        return
    # A utility tag that passed check_tag (Messenger, before 2026-04-27): any age.


def check_private_reply(obj: FeedObject | None, account: Account, now: datetime) -> FeedObject:
    """One private reply per comment/post, within 7 days, never to the Page itself (2.6, 3).

    Codes are [U] (2.6: "Graph code 10 or 100 family"): unknown object → 100/2018292 (seen in
    a restfb issue quoting Meta); the Page's own comment → 10902 and a second reply → 10900
    (the legacy private_replies errors); older than 7 d → the window error 10/2018278
    (Instagram 10/2534022).
    """
    if obj is None or obj.account_id != account.id:
        raise GraphError(
            100,
            "(#100) Invalid comment_id parameter",
            subcode=2018292,
            reason="no such comment/post on this account (2.6)",
        )
    if account.answers_to(obj.from_id):
        raise GraphError(
            10902,
            "(#10902) This is not a Replyable activity",
            reason="private replies cannot answer the Page's own comment (2.6)",
        )
    if obj.private_reply_sent:
        raise GraphError(
            10900,
            "(#10900) Activity already replied to",
            reason="one private reply per comment/post (2.6)",
        )
    if not within(obj.created_at, now, PRIVATE_REPLY_WINDOW):
        raise outside_window(
            instagram=account.kind == "instagram",
            reason=f"{obj.kind} created {_age(obj.created_at, now)} ago > 7 d (2.6)",
        )
    return obj


def _age(since: datetime | None, now: datetime) -> str:
    return "∞ (none recorded)" if since is None else str(now - since)
