"""What the fake platform remembers: accounts (Pages / IG accounts), users, feed objects,
opt-in tokens, the send log, configuration. Plain dataclasses; rules live in rules.py,
content.py and marketing.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Kind = Literal["page", "instagram"]
Platform = Literal["messenger", "instagram"]
Frequency = Literal["DAILY", "WEEKLY", "MONTHLY"]
TokenStatus = Literal["ACTIVE", "STOPPED"]

DEFAULT_PROFILE_FIELDS = frozenset({"id", "name", "first_name", "last_name", "profile_pic"})
# Readable only when granted per Page (2.7: "need extra permission/feature").
EXTRA_PROFILE_FIELDS = frozenset({"locale", "timezone", "gender"})
# Instagram user profile fields (3 [U]: the IG profile API is not in platforms.md).
IG_PROFILE_FIELDS = frozenset({"id", "name", "username", "profile_pic"})


@dataclass
class Account:
    """A Facebook Page (kind "page") or an Instagram professional account (kind "instagram").

    `id` is the id the platform uses in paths and in webhook `entry[].id`: the Page ID for a
    Page, the IG account id for Instagram. `page_id` is an IG account's linked Page (so
    `/{PAGE_ID}/messages` reaches it too, 3: "send with the Page token to {PAGE_ID}/messages").
    """

    id: str
    kind: Kind
    token: str
    app_secret: str
    callback_url: str | None = None
    name: str = ""
    app_id: str = "1000000000000001"
    page_id: str | None = None
    get_started_payload: str = "GET_STARTED"
    granted_profile_fields: set[str] = field(default_factory=set)
    subscribed_fields: list[str] = field(default_factory=list)

    @property
    def platform(self) -> Platform:
        return "instagram" if self.kind == "instagram" else "messenger"

    @property
    def webhook_object(self) -> str:
        return "instagram" if self.kind == "instagram" else "page"

    def answers_to(self, node: str) -> bool:
        return node == self.id or (self.page_id is not None and node == self.page_id)


@dataclass
class User:
    """A person as one account sees them: PSID (Messenger) or IGSID (Instagram)."""

    account_id: str
    id: str
    first_name: str = ""
    last_name: str = ""
    profile_pic: str = ""
    locale: str = "vi_VN"
    timezone: float = 7
    gender: str = ""
    username: str = ""
    unavailable: bool = False
    feed_id: str | None = None  # the id this person has in feed webhooks (not a PSID, 2.6)
    user_ref: str | None = None  # checkbox-plugin reference (2.1)
    user_ref_used: bool = False
    conversation_started: bool = False
    last_interaction_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class FeedObject:
    """A comment on a post (kind "comment") or a visitor post (kind "post") that a private
    reply can answer once, within 7 days (2.6, 3)."""

    id: str
    account_id: str
    kind: Literal["comment", "post"]
    post_id: str
    from_id: str
    from_name: str
    text: str
    created_at: datetime
    private_reply_sent: bool = False
    private_reply_at: datetime | None = None


@dataclass
class OptinToken:
    """A `notification_messages_token` from a marketing-messages opt-in (2.4)."""

    token: str
    account_id: str
    user_id: str
    frequency: Frequency
    title: str
    payload: str
    timezone: str
    created_at: datetime
    expires_at: datetime
    status: TokenStatus = "ACTIVE"
    last_sent_at: datetime | None = None


@dataclass
class RateLimits:
    """Send API buckets (2.10): per account, per second; private replies per hour."""

    text_per_second: float = 300
    media_per_second: float = 10
    private_replies_per_hour: float = 750


@dataclass
class GraphConfig:
    auth_error_status: int = 400  # 1.2: 400 by default; 401 allowed
    webhook_timeout_seconds: float = 10
    auto_echo: bool = False  # emit message_echoes after each accepted send (2.11 #6)
    auto_delivery: bool = False  # then message_deliveries (Messenger only)
    auto_read: bool = False  # then message_reads / IG messaging_seen


@dataclass
class SendRecord:
    """One Send API call, accepted or rejected, as the sandbox saw it."""

    seq: int
    at: datetime
    account_id: str | None
    platform: Platform | None
    path: str
    request: dict[str, Any]
    accepted: bool
    http_status: int
    user_id: str | None = None
    message_id: str | None = None
    response: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    reason: str = ""

    @property
    def message(self) -> dict[str, Any] | None:
        value = self.request.get("message")
        return value if isinstance(value, dict) else None

    @property
    def sender_action(self) -> str | None:
        """typing_on / typing_off / mark_seen when this call was a sender action."""
        value = self.request.get("sender_action")
        return value if isinstance(value, str) else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "account_id": self.account_id,
            "platform": self.platform,
            "path": self.path,
            "request": self.request,
            "accepted": self.accepted,
            "http_status": self.http_status,
            "user_id": self.user_id,
            "message_id": self.message_id,
            "response": self.response,
            "error": self.error,
            "reason": self.reason,
        }
