"""What the broadcasts room takes in and gives back."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from chatcart.policy.schemas import Purpose


class BroadcastPurpose(StrEnum):
    """What the seller says the message is; policy judges each recipient by it."""

    PROMOTION = "promotion"
    ORDER_UPDATE = "order_update"
    EVENT_REMINDER = "event_reminder"
    ACCOUNT_UPDATE = "account_update"
    HUMAN_FOLLOW_UP = "human_follow_up"

    def policy_purpose(self) -> Purpose:
        if self is BroadcastPurpose.HUMAN_FOLLOW_UP:
            return Purpose.HUMAN_REPLY
        return Purpose(self.value)

    @property
    def written_by(self) -> str:
        return "human" if self is BroadcastPurpose.HUMAN_FOLLOW_UP else "bot"


class Throttle(BaseModel):
    """ "Send N, then pause S seconds (± jitter)", a cap per second, a per-contact frequency
    cap and quiet hours in the contact's time zone."""

    batch_size: int | None = Field(default=None, ge=1, le=100_000)
    pause_seconds: float = Field(default=0.0, ge=0, le=86_400)
    jitter_seconds: float = Field(default=0.0, ge=0, le=86_400)
    max_per_second: float | None = Field(default=None, gt=0, le=10_000)
    frequency_cap_hours: int = Field(default=24, ge=0, le=24 * 90)
    quiet_start_hour: int | None = Field(default=None, ge=0, le=23)
    quiet_end_hour: int | None = Field(default=None, ge=0, le=23)

    @model_validator(mode="after")
    def _check(self) -> Throttle:
        if (self.quiet_start_hour is None) != (self.quiet_end_hour is None):
            raise ValueError("quiet hours need both a start and an end hour")
        if self.jitter_seconds > self.pause_seconds:
            raise ValueError("the jitter cannot be longer than the pause")
        return self


class BroadcastCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    channel_account_ids: list[int] = Field(min_length=1)
    segment_id: int
    text: str = Field(min_length=1, max_length=2000)
    quick_replies: list[str] = Field(default_factory=list, max_length=13)
    image_url: str | None = None
    purpose: BroadcastPurpose
    throttle: Throttle = Field(default_factory=Throttle)
    scheduled_at: AwareDatetime | None = None


class BroadcastOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    workspace_id: int
    name: str
    channel_account_ids: list[int]
    segment_id: int | None
    content: dict[str, Any]
    purpose: str
    batch_size: int | None
    pause_seconds: float
    jitter_seconds: float
    max_per_second: float | None
    frequency_cap_hours: int
    quiet_start_hour: int | None
    quiet_end_hour: int | None
    scheduled_at: datetime | None
    status: str
    pause_reason: str | None
    paused_by: str | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime


class RuleCount(BaseModel):
    """How many recipients one rule reached or stopped, with its date and sentences."""

    rule: str
    count: int = 0
    effective: date | None = None
    reason: str = ""
    reason_vi: str = ""


class ChannelPlan(BaseModel):
    channel_account_id: int
    name: str
    kind: str
    reachable: int = 0
    by_rule: list[RuleCount] = Field(default_factory=list)


class PlanOut(BaseModel):
    """Before sending: who can be reached, on which channel, by which rule; who is skipped
    and why. `later`: reachable, but waiting for quiet hours to end."""

    total: int
    reachable: int
    skipped: int
    later: int
    channels: list[ChannelPlan]
    skips: list[RuleCount]
    at: datetime


class Progress(BaseModel):
    broadcast_id: int
    status: str
    total: int
    pending: int
    sending: int
    sent: int
    delivered: int
    read: int
    skipped: int
    failed: int
    unknown: int
    cancelled: int
    rate_per_second: float | None = None
    eta_seconds: float | None = None
    pause_reason: str | None = None
    paused_by: str | None = None

    @property
    def done(self) -> int:
        return self.total - self.pending - self.sending


class LedgerRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    contact_id: int
    contact_name: str
    status: str
    channel_account_id: int | None
    rule: str | None
    reason: str | None
    rendered: str | None
    external_id: str | None
    error_code: str | None
    error_message: str | None
    attempts: int
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    updated_at: datetime | None


class Preview(BaseModel):
    """The composer's live preview: renderings for real contacts and the variant count."""

    variants: int
    samples: list[str]


class Report(BaseModel):
    """After (or during) the run: reach and what people did with the message."""

    broadcast_id: int
    recipients: int
    reached: int  # sent, delivered or read
    delivered: int  # delivered or read
    read: int
    replied: int  # wrote back after the send
    clicked: int  # tapped one of its quick replies
    order_days: int = 7
    orders: int = 0  # placed (not cancelled) by reached recipients within order_days of it
    buyers: int = 0  # the reached recipients who placed them
    skipped: int
    failed: int
    unknown: int
