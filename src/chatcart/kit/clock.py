"""The only maker of datetimes: always tz-aware UTC (DESIGN.md §4.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def in_seconds(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


def as_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC (what SQLite hands back); aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_local(value: datetime, timezone: str) -> datetime:
    return as_utc(value).astimezone(ZoneInfo(timezone))
