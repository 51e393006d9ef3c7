"""Versioned rule packs, one per channel kind. Changing a platform rule is a data change here.

Facts and sources: /work/shared/reference/platforms.md (cited as §n). Readings where the
reference leaves room, decided here once:

- Window and 7-day limits are inclusive: an age of exactly 24 h (7 d) is inside, 24 h + 1 µs
  is outside (the fake-server rule of §2.2: "allowed iff age <= 24h"). Dated rules go by the
  UTC calendar day of `now`; `effective_until` is the last day a rule is in force.
- The three utility tags are valid until 2026-04-26 and refused from 2026-04-27 (correction at
  the top of platforms.md; Meta answers code 100).
- Recurring notifications (§2.4): the free product ran until 2026-02-09 with a 48 h cooldown
  between sends (since 2025-09-01) on top of the token's frequency. From 2026-02-10 the same
  opt-in tokens are used through the paid Marketing Message API *for Messenger*; we keep the
  token's frequency cap, drop the 48 h cooldown (not stated for the new API), and Instagram has
  no token route any more. That API is a different endpoint (POST /act_<AD_ACCOUNT_ID>/messages)
  needing an ad account, so a send is allowed only when the request says the account is
  connected (`marketing_api`), with Decision.endpoint = "marketing_message_api". Older
  marketing history is not modelled, hence `valid_from`.
- Frequency caps (§2.4: one per calendar day / week / month) count calendar periods in the
  token's notification_messages_timezone, UTC when it has none; weeks are ISO (Monday first).
  A token is dead from its expiry instant on (allowed iff now < expires_at). Opt-in requests:
  one per person per 7 rolling days (allowed iff the last is >= 7 d old), inside the window.
- Instagram (§3) runs on the Messenger Platform; the reference gives no Instagram start date,
  so its standing rules carry the Messenger Platform policy date 2020-03-04 (§2.2).
- A promotion never goes with a tag (§2.2); Pack.__post_init__ refuses such data.
"""

from __future__ import annotations

from datetime import date

from chatcart.policy.schemas import (
    ANSWERS,
    ConsentRule,
    MarketingRule,
    Pack,
    PrivateReplyRule,
    Purpose,
    Rate,
    Rates,
    Refusal,
    Rule,
    TagRule,
    WindowRule,
)

# Dates the rules turn on.
MESSENGER_POLICY = date(2020, 3, 4)  # §2.2: 24 h window + the 4-tag set; §2.6 private replies
RECURRING_48H_COOLDOWN = date(2025, 9, 1)  # §2.4: cooldown 24 h -> 48 h, existing partners only
RECURRING_NOTIFICATIONS_LAST_DAY = date(2026, 2, 9)  # §2.4: retired on 2026-02-10
MARKETING_MESSAGES_ONLY = date(2026, 2, 10)  # §2.4: Marketing Message API replaces them
UTILITY_TAGS_LAST_DAY = date(2026, 4, 26)  # correction, top of platforms.md
UTILITY_TAGS_RETIRED = date(2026, 4, 27)  # from here: error code 100
CHATCART_RULES = date(2026, 11, 1)  # chatcart's own rules (webchat, unknown channel)
META_PACK_VERSION = "2026-11-21"
META_PACK_DATE = date(2026, 11, 21)

# chatcart's answer for a channel kind it has no pack for (rule id "<channel>.unknown").
UNKNOWN_CHANNEL = Rule(id="unknown", effective_from=CHATCART_RULES, source="DESIGN.md §6")

SOURCE_TAGS = "platforms.md §2.2 and the correction at its top"
SOURCE_RATES = "platforms.md §2.10, §3"

# (purpose, tag, rule-id stem) for the utility tags of §2.2.
UTILITY_TAGS: tuple[tuple[Purpose, str, str], ...] = (
    (Purpose.ORDER_UPDATE, "POST_PURCHASE_UPDATE", "post_purchase_update"),
    (Purpose.EVENT_REMINDER, "CONFIRMED_EVENT_UPDATE", "confirmed_event_update"),
    (Purpose.ACCOUNT_UPDATE, "ACCOUNT_UPDATE", "account_update"),
)
UTILITY_PURPOSES = frozenset(purpose for purpose, _, _ in UTILITY_TAGS)


def _meta_rates() -> Rates:
    # §2.10: 300 calls/s per Page for text, 10 for audio/video; private replies 750 calls/hour.
    # §3 gives the same for an Instagram account. §2.10 lists the 750/hour on Messenger's page
    # "for replies to Instagram posts/reels"; we apply it to Messenger private replies too.
    return Rates(
        text=Rate(limit="300/second", count=300, seconds=1, scope="text", source=SOURCE_RATES),
        media=Rate(limit="10/second", count=10, seconds=1, scope="media", source=SOURCE_RATES),
        private_reply=Rate(
            limit="750/hour", count=750, seconds=3600, scope="private_reply", source=SOURCE_RATES
        ),
    )


def _human_agent(channel: str) -> TagRule:
    # §2.2 / §3: HUMAN_AGENT, a person answering up to 7 days after the last interaction.
    return TagRule(
        id=f"{channel}.human_agent",
        tag="HUMAN_AGENT",
        purposes=ANSWERS,
        max_days=7,
        human_only=True,
        effective_from=MESSENGER_POLICY,
        source="platforms.md §2.2, §3",
    )


def _recurring_notifications(channel: str) -> MarketingRule:
    return MarketingRule(
        id=f"{channel}.recurring_notifications",
        paid=False,
        min_gap_hours=48,
        effective_from=RECURRING_48H_COOLDOWN,
        effective_until=RECURRING_NOTIFICATIONS_LAST_DAY,
        source="platforms.md §2.4",
    )


def _consent(channel: str, since: date) -> ConsentRule:
    return ConsentRule(
        id=f"{channel}.unsubscribed",
        answers=ANSWERS | {Purpose.PRIVATE_REPLY},
        effective_from=since,
        source="DESIGN.md §1.8",
    )


WEBCHAT = Pack(
    channel="webchat",
    label="website chat",
    label_vi="khung chat website",
    version="2026-11-01",
    effective=CHATCART_RULES,
    open=Rule(id="webchat.open", effective_from=CHATCART_RULES, source="platforms.md §7"),
    consent=_consent("webchat", CHATCART_RULES),
    # Our own widget has no platform limit (§7); this only guards against a runaway loop.
    rates=Rates(
        text=Rate(limit="100/second", count=100, seconds=1, scope="text", source="chatcart"),
        media=Rate(limit="100/second", count=100, seconds=1, scope="media", source="chatcart"),
    ),
)

MESSENGER = Pack(
    channel="messenger",
    label="Messenger",
    label_vi="Messenger",
    version=META_PACK_VERSION,
    effective=META_PACK_DATE,
    valid_from=RECURRING_48H_COOLDOWN,
    window=WindowRule(
        id="messenger.window", hours=24, effective_from=MESSENGER_POLICY, source="platforms.md §2.2"
    ),
    tags=(
        _human_agent("messenger"),
        *(
            TagRule(
                id=f"messenger.tag.{stem}",
                tag=tag,
                purposes=frozenset({purpose}),
                effective_from=MESSENGER_POLICY,
                effective_until=UTILITY_TAGS_LAST_DAY,
                source=SOURCE_TAGS,
            )
            for purpose, tag, stem in UTILITY_TAGS
        ),
    ),
    refusals=tuple(
        Refusal(
            id=f"messenger.tag.{stem}.retired",
            purposes=frozenset({purpose}),
            tag=tag,
            text="tag_retired",
            effective_from=UTILITY_TAGS_RETIRED,
            source=SOURCE_TAGS,
        )
        for purpose, tag, stem in UTILITY_TAGS
    ),
    private_replies=PrivateReplyRule(
        id="messenger.private_reply",
        days=7,
        effective_from=MESSENGER_POLICY,
        source="platforms.md §2.6",
    ),
    marketing=(
        _recurring_notifications("messenger"),
        MarketingRule(
            id="messenger.marketing_messages",
            paid=True,
            effective_from=MARKETING_MESSAGES_ONLY,
            source="platforms.md §2.4",
        ),
    ),
    consent=_consent("messenger", META_PACK_DATE),
    rates=_meta_rates(),
)

INSTAGRAM = Pack(
    channel="instagram",
    label="Instagram",
    label_vi="Instagram",
    version=META_PACK_VERSION,
    effective=META_PACK_DATE,
    valid_from=RECURRING_48H_COOLDOWN,
    window=WindowRule(
        id="instagram.window", hours=24, effective_from=MESSENGER_POLICY, source="platforms.md §3"
    ),
    tags=(_human_agent("instagram"),),
    refusals=(
        # §3: only HUMAN_AGENT outside the window; the utility tags never existed on Instagram.
        Refusal(
            id="instagram.tags.none",
            purposes=UTILITY_PURPOSES,
            text="tags_never",
            effective_from=MESSENGER_POLICY,
            source="platforms.md §3",
        ),
        # §2.4: Instagram had recurring notifications (its opt-in limits are listed there); the
        # Marketing Message API that replaced them on 2026-02-10 is for Messenger only.
        Refusal(
            id="instagram.marketing.none",
            purposes=frozenset({Purpose.PROMOTION, Purpose.OPTIN_REQUEST}),
            text="marketing_none",
            effective_from=MARKETING_MESSAGES_ONLY,
            source="platforms.md §2.4, §3",
        ),
    ),
    private_replies=PrivateReplyRule(
        id="instagram.private_reply",
        days=7,
        effective_from=MESSENGER_POLICY,
        source="platforms.md §3",
    ),
    marketing=(_recurring_notifications("instagram"),),
    consent=_consent("instagram", META_PACK_DATE),
    rates=_meta_rates(),
)

PACKS: dict[str, Pack] = {pack.channel: pack for pack in (WEBCHAT, MESSENGER, INSTAGRAM)}


def window_only(channel: str, *, version: str, effective: date, hours: int = 24) -> Pack:
    """A pack with a plain window and nothing else (tests, and channels not yet described)."""
    return Pack(
        channel=channel,
        label=channel,
        label_vi=channel,
        version=version,
        effective=effective,
        window=WindowRule(
            id=f"{channel}.window", hours=hours, effective_from=effective, source="test"
        ),
        consent=_consent(channel, effective),
        rates=WEBCHAT.rates,
    )
