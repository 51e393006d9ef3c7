from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class ChannelAccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    workspace_id: int
    kind: str
    name: str
    external_id: str
    status: str
    status_reason: str | None = None
    settings: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewInbound:
    """One raw event to record (a webhook batch is split into these at the door)."""

    workspace_id: int
    channel_account_id: int
    external_id: str
    body: str
    sender_external_id: str | None = None
    status: str = "pending"  # "failed" for a signed body nobody can read, kept for review
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RawDelivery:
    """One webhook POST as received (bytes), with the items split from it to record."""

    workspace_id: int
    channel_account_id: int
    body: bytes
    items: list[NewInbound]
    error: str | None = None  # signed yet unreadable: why


@dataclass(frozen=True, slots=True)
class ClaimedInbound:
    id: int
    workspace_id: int
    channel_account_id: int
    body: bytes
    sender_id: str | None = None  # the person, as recorded at the door (when it names one)


class RecordedEvent(BaseModel):
    id: int
    created: bool  # False when the platform (or widget) redelivered a known event
