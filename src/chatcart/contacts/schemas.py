from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
