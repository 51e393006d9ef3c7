from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ResolvedContact(BaseModel):
    contact_id: int
    identity_id: int
    name: str
    first_name: str | None = None
    locale: str | None
    created: bool


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    workspace_id: int
    name: str
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None
    timezone: str | None
    source: dict[str, Any]
    last_interaction_at: datetime | None
    created_at: datetime


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    channel_account_id: int
    external_id: str
    last_inbound_at: datetime | None
    reachable: bool


class FieldType(StrEnum):
    text = "text"
    number = "number"
    date = "date"
    boolean = "boolean"
    choice = "choice"


class FieldDefinitionIn(BaseModel):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(default="", max_length=200)
    type: FieldType = FieldType.text
    choices: list[str] | None = None


class MergeSuggestion(BaseModel):
    contact_id: int
    other_id: int
    kind: str  # phone | email
    value: str


class FieldDefinitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    label: str
    type: FieldType
    choices: list[str] | None = None


# ---- the contact page (contacts/profile.py) ----------------------------------------------


class IdentityView(BaseModel):
    """One channel identity as the contact page shows it, with its window state now."""

    id: int
    channel_account_id: int
    channel: str
    account_name: str
    external_id: str
    last_inbound_at: datetime | None
    reachable: bool
    unreachable_reason: str | None
    messageable_now: bool
    window_closes_at: datetime | None  # None: no window on this channel, or never wrote
    created_at: datetime


class PointView(BaseModel):
    id: int
    kind: str
    value: str
    raw: str
    valid: bool
    source: str
    channel: str | None
    message_id: int | None
    first_seen_at: datetime
    last_seen_at: datetime


class FieldView(BaseModel):
    key: str
    label: str
    type: FieldType
    choices: list[str] | None
    value: Any  # None when the contact has none
    text: str  # the value as a form shows it ("" when unset)


class ConsentView(BaseModel):
    purpose: str
    status: str
    source: str
    updated_at: datetime


class EventView(BaseModel):
    kind: str
    data: dict[str, Any]
    actor: str | None
    at: datetime


class ContactBrief(BaseModel):
    """Another contact named on the page (a duplicate, a merged one)."""

    id: int
    name: str
    created_at: datetime
    last_interaction_at: datetime | None
    reason: str | None = None  # phone | email: why it is a suggested duplicate
    value: str | None = None


class ContactDetail(BaseModel):
    id: int
    name: str
    first_name: str | None
    last_name: str | None
    avatar_url: str | None
    locale: str | None
    timezone: str | None
    source: dict[str, Any]
    created_at: datetime
    last_interaction_at: datetime | None
    order_count: int
    total_spent: int
    last_order_at: datetime | None
    merged_into_id: int | None
    identities: list[IdentityView]
    points: list[PointView]
    tags: list[str]
    fields: list[FieldView]
    consents: list[ConsentView]
    events: list[EventView]
    duplicates: list[ContactBrief]
    merged_from: list[ContactBrief]


class ImportStatus(BaseModel):
    """An admin CSV import: progress while running, the report when done."""

    id: int
    filename: str
    status: str  # running | done | failed | interrupted (its process stopped mid-way)
    rows_done: int
    rows_total: int | None
    report: dict[str, Any] | None  # csv_format.ImportReport as JSON
    error: str | None
    actor: str | None
    created_at: datetime
    finished_at: datetime | None

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)
