"""What the appointments room takes and gives: services, booking rules, dates with other
hours, bookings, free slots, and where a chat about a booking happens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from chatcart.appointments.slots import WEEKDAYS, check_intervals, clock, parse_clock

BookingStatus = Literal["booked", "cancelled"]
BookingSource = Literal["chat", "admin", "api"]
Language = Literal["vi", "en", "tl"]
AppointmentOp = Literal["book", "mine"]


def _intervals(value: list[list[str]] | list[tuple[str, str]]) -> list[tuple[str, str]]:
    pairs = []
    for item in value:
        if len(item) != 2:
            raise ValueError("an opening interval is [from, to], e.g. ['09:00', '12:00']")
        pairs.append((parse_clock(item[0]), parse_clock(item[1])))
    return [(clock(a), clock(b)) for a, b in check_intervals(pairs)]


class ServiceIn(BaseModel):
    name_vi: str = Field(min_length=1, max_length=120)
    name_en: str = Field(default="", max_length=120)
    duration_minutes: int = Field(ge=5, le=12 * 60, multiple_of=5)
    price: int | None = Field(default=None, ge=0, description="Minor units; none: not shown.")
    currency: str = Field(default="VND", pattern=r"^[A-Z]{3}$")
    active: bool = True
    position: int = Field(default=0, ge=0, le=10_000)

    @field_validator("name_vi", "name_en")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name_vi: str
    name_en: str
    duration_minutes: int
    price: int | None
    currency: str
    active: bool
    position: int

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" or not self.name_en else self.name_en


class BookingRules(BaseModel):
    """A workspace's booking rules. `hours`: per weekday, local opening intervals
    (`{"mon": [["09:00", "12:00"], ["13:30", "18:00"]]}`; a weekday left out is closed)."""

    hours: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    capacity: int = Field(default=1, ge=1, le=100, description="Bookings that may overlap.")
    step_minutes: int = Field(default=30, ge=5, le=240, multiple_of=5)
    min_notice_minutes: int = Field(default=120, ge=0, le=30 * 24 * 60)
    days_ahead: int = Field(default=14, ge=0, le=365, description="Bookable up to today + this.")

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> dict[str, list[tuple[str, str]]]:
        if not isinstance(value, dict):
            raise ValueError("hours maps weekdays (mon...sun) to opening intervals")
        out = {}
        for key, intervals in value.items():
            if key not in WEEKDAYS:
                raise ValueError(f"{key!r} is not a weekday; use mon, tue, ... sun")
            out[key] = _intervals(intervals)
        return out


class SpecialDayIn(BaseModel):
    """A date with other hours: closed when `hours` is empty."""

    day: date
    hours: list[tuple[str, str]] = Field(default_factory=list)
    note: str = Field(default="", max_length=200)

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> list[tuple[str, str]]:
        if not isinstance(value, list):
            raise ValueError("hours is a list of [from, to] intervals")
        return _intervals(value)


class SpecialDayOut(SpecialDayIn):
    id: int


class BookingOut(BaseModel):
    id: int
    service_id: int
    service_name: str
    contact_id: int | None
    conversation_id: int | None
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    customer_name: str
    phone: str
    source: str
    created_at: datetime
    rescheduled_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: str | None


class BookingIn(BaseModel):
    """A booking made through the API (or the admin): the start must be one of the
    service's free slots."""

    service_id: int
    starts_at: AwareDatetime
    customer_name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=32)
    contact_id: int | None = None


class DaySlots(BaseModel):
    day: date  # local date in the workspace's time zone
    starts: list[datetime]  # UTC


class BookingPlace(BaseModel):
    """The conversation a booking chat happens in (the conversations room fills it)."""

    workspace_id: int
    conversation_id: int
    contact_id: int
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Language = "vi"
    # False: a guess from nothing (no locale, a tap, a number): an intent's own language wins.
    language_sure: bool = True
    contact_name: str = ""
