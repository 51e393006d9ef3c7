from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator


class WorkspaceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: str = Field(default="vi", pattern=r"^(vi|en|tl)$")
    default_region: str = Field(default="VN", pattern=r"^[A-Z]{2}$")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value


class WorkspaceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    timezone: str
    locale: str
    default_region: str
    created_at: datetime
    config_rev: int = 0  # see models.workspace: what kit/config_cache keys on
