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
