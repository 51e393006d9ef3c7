"""What the policy room takes in and gives back, and the shapes its rule packs are made of.

The rule *data* lives in packs.py; the shapes live here so other rooms can type against them
(they may import policy.service and policy.schemas only, DESIGN.md §4.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from chatcart.kit.clock import as_utc


class Purpose(StrEnum):
    """Why a message is sent; the rules differ per purpose (platforms.md §2.2)."""

    REPLY = "reply"  # the bot answering the person
    HUMAN_REPLY = "human_reply"  # a person on the seller's team answering
    PROMOTION = "promotion"
    ORDER_UPDATE = "order_update"
    EVENT_REMINDER = "event_reminder"
    ACCOUNT_UPDATE = "account_update"
    PRIVATE_REPLY = "private_reply"  # answer to a public comment, sent to its comment_id
    OPTIN_REQUEST = "optin_request"  # asking for a marketing-messages opt-in


# Purposes that answer something the person just said. Inside the window they go as RESPONSE;
# a person who said STOP still gets them (see ConsentRule).
ANSWERS: frozenset[Purpose] = frozenset({Purpose.REPLY, Purpose.HUMAN_REPLY})


class Frequency(StrEnum):
    """notification_messages_frequency of an opt-in token (platforms.md §2.4)."""

    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


Writer = Literal["bot", "human"]
TokenStatus = Literal["active", "stopped"]
RecipientKind = Literal["id", "comment_id", "notification_messages_token"]
MessagingType = Literal["RESPONSE", "UPDATE", "MESSAGE_TAG"]
# Which Meta API carries the message: the Send API (POST /{PAGE_ID}/messages), or the paid
# Marketing Message API (POST /act_<AD_ACCOUNT_ID>/messages, platforms.md §2.4).
Endpoint = Literal["send_api", "marketing_message_api"]


def _utc(value: datetime | None) -> datetime | None:
    # Naive values are UTC (what SQLite hands back), as everywhere else (kit.clock.as_utc).
    return None if value is None else as_utc(value)


class OptinToken(BaseModel):
    """The person's marketing-messages opt-in token, as Meta's messaging_optins webhook told us.

    `timezone` is notification_messages_timezone (IANA name); calendar caps are counted in it,
    in UTC when it is missing.
    """

    model_config = ConfigDict(frozen=True)

    expires_at: datetime  # token_expiry_timestamp; the token is dead from this instant on
    status: TokenStatus = "active"  # "stopped" after the person turned the messages off
    frequency: Frequency
    last_sent_at: datetime | None = None  # our last send with this token
    timezone: str | None = None

    @field_validator("expires_at", "last_sent_at")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")


class PolicyRequest(BaseModel):
    """Everything the rules need to judge one message. Time is passed in; nothing is looked up."""

    model_config = ConfigDict(frozen=True)

    channel: str  # channel account kind: "webchat" | "messenger" | "instagram"
    purpose: Purpose
    now: AwareDatetime
    # The person's last message, postback, quick-reply tap or m.me referral on this channel
    # identity (platforms.md §2.2); None if they never wrote. Naive values are read as UTC.
    last_interaction_at: datetime | None = None
    written_by: Writer = "bot"
    # Private replies (platforms.md §2.6, §3): when the comment was made, how many private
    # replies it already got.
    comment_created_at: datetime | None = None
    private_replies_sent: int = Field(default=0, ge=0)
    # Marketing messages (platforms.md §2.4): the person's opt-in token, None if they have none,
    # and when we last asked them to opt in.
    optin: OptinToken | None = None
    last_optin_request_at: datetime | None = None
    unsubscribed: bool = False  # the person said STOP / HỦY
    # What the channel account can do (its settings, not the person's):
    # the app has Meta's Human Agent feature (platforms.md §2.2, needs App Review) ...
    human_agent_enabled: bool = True
    # ... and the account is connected to the paid Marketing Message API (ad account,
    # paid_marketing_messages permission; platforms.md §2.4). Off until chatcart supports it.
    marketing_api: bool = False

    @field_validator("now", "last_interaction_at", "comment_created_at", "last_optin_request_at")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class Decision(BaseModel):
    """May the message go out, and how. `rule` and `effective` name what allowed or stopped it."""

    allowed: bool
    rule: str  # e.g. "webchat.open", "messenger.tag.post_purchase_update.retired"
    effective: date | None = None  # when that rule took effect (always set by decide())
    messaging_type: MessagingType = "RESPONSE"
    tag: str | None = None
    recipient_kind: RecipientKind = "id"
    endpoint: Endpoint = "send_api"
    reason: str = ""  # a sentence a seller understands, naming the rule and its date
    explanation_vi: str = ""  # the same sentence in Vietnamese
    pack_version: str | None = None


# --- rule pack shapes (the data is in packs.py) -------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One dated rule. Dates are UTC calendar days, both ends inclusive."""

    id: str
    effective_from: date
    effective_until: date | None = None  # last day in force; None while still in force
    source: str  # where the fact comes from, e.g. "platforms.md §2.2"

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day <= self.effective_until
        )


@dataclass(frozen=True, kw_only=True)
class WindowRule(Rule):
    """Standard messages only while the person's last interaction is at most `hours` old."""

    hours: int

    @property
    def span(self) -> timedelta:
        return timedelta(hours=self.hours)


@dataclass(frozen=True, kw_only=True)
class TagRule(Rule):
    """A message tag that lets `purposes` out after the window closes."""

    tag: str
    purposes: frozenset[Purpose]
    max_days: int | None = None  # None: any age of the last interaction
    human_only: bool = False  # HUMAN_AGENT: the text must be written by a person

    @property
    def span(self) -> timedelta | None:
        return None if self.max_days is None else timedelta(days=self.max_days)


@dataclass(frozen=True, kw_only=True)
class Refusal(Rule):
    """A dated "no" for `purposes` outside the window (a retired tag, a route that never was).

    `text` picks the sentence in texts.py.
    """

    purposes: frozenset[Purpose]
    text: str
    tag: str | None = None


@dataclass(frozen=True, kw_only=True)
class PrivateReplyRule(Rule):
    """One private reply per comment, within `days` of the comment (platforms.md §2.6)."""

    days: int
    per_comment: int = 1

    @property
    def span(self) -> timedelta:
        return timedelta(days=self.days)


@dataclass(frozen=True, kw_only=True)
class MarketingRule(Rule):
    """Promotions outside the window through a notification_messages_token (platforms.md §2.4)."""

    paid: bool  # sent through the paid Marketing Message API
    min_gap_hours: int | None = None  # a fixed cooldown between two sends with one token
    optin_gap_days: int = 7  # at most one opt-in request per person in this many days


@dataclass(frozen=True, kw_only=True)
class ConsentRule(Rule):
    """chatcart's own rule: after STOP / HỦY only `answers` go out (DESIGN.md §1.8)."""

    answers: frozenset[Purpose]


@dataclass(frozen=True, kw_only=True)
class Rate:
    """A send rate per channel account, e.g. limit "300/second" (the `limits` library syntax)."""

    limit: str
    count: int
    seconds: int
    scope: Literal["text", "media", "private_reply"]
    source: str


@dataclass(frozen=True, kw_only=True)
class Rates:
    text: Rate
    media: Rate
    private_reply: Rate | None = None  # None: private replies share the text rate


@dataclass(frozen=True, kw_only=True)
class Pack:
    """One channel's rules, versioned. An update to a platform's rules is a change here."""

    channel: str
    label: str  # the channel's name in a sentence, English
    label_vi: str
    version: str
    effective: date  # when this pack version took effect
    valid_from: date | None = None  # no decision before this day (older rules not modelled)
    open: Rule | None = None  # a channel without a window (our own widget)
    window: WindowRule | None = None
    tags: tuple[TagRule, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    private_replies: PrivateReplyRule | None = None
    marketing: tuple[MarketingRule, ...] = ()
    consent: ConsentRule
    rates: Rates

    def __post_init__(self) -> None:
        if (self.open is None) == (self.window is None):
            raise ValueError(f"{self.channel}: a pack is either open or has a window")
        for tag in self.tags:
            # platforms.md §2.2: tags must not carry promotional content. Enforced on the data.
            if tag.purposes & {Purpose.PROMOTION, Purpose.OPTIN_REQUEST}:
                raise ValueError(f"{tag.id}: a tag may never carry a promotion")
        ids = [rule.id for rule in self.rules()]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.channel}: rule ids repeat")

    def rules(self) -> tuple[Rule, ...]:
        """Every rule of the pack, past and present, with its dates (for the admin)."""
        found: list[Rule | None] = [
            self.open,
            self.window,
            *self.tags,
            *self.refusals,
            self.private_replies,
            *self.marketing,
            self.consent,
        ]
        return tuple(rule for rule in found if rule is not None)

    def in_force(self, day: date) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules() if rule.in_force(day))
