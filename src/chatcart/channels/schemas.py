from __future__ import annotations

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
    settings: dict[str, Any]
    created_at: datetime


class RecordedEvent(BaseModel):
    id: int
    created: bool  # False when the platform (or widget) redelivered a known event
