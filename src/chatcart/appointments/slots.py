"""Free slots, pure (no database, no clock): the booking rules, the bookings already made
and `now` in, the start times a service can still be booked at out.

Opening hours are local wall-clock times in the workspace's time zone; everything else is
UTC. A day's slots start at each opening time and step by `step_minutes` of wall-clock
time; a slot fits when the service ends by the closing time (measured in real minutes, so
a day on which clocks move is handled: a start that does not exist locally is skipped, an
ambiguous one is taken at its first occurrence), starts at least `min_notice_minutes`
after now, falls within `days_ahead` days, and never has more than `capacity` bookings at
the same instant with it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60

# An opening interval in minutes after local midnight: (540, 720) is 09:00-12:00.
Interval = tuple[int, int]


@dataclass(frozen=True)
class Rules:
    timezone: str
    hours: dict[str, list[Interval]]  # weekday ("mon"...) -> opening intervals
    days: dict[date, list[Interval]] = field(default_factory=dict)  # dates with other hours
    capacity: int = 1
    step_minutes: int = 30
    min_notice_minutes: int = 0
    days_ahead: int = 14

    def opening(self, day: date) -> list[Interval]:
        if day in self.days:
            return self.days[day]
        return self.hours.get(WEEKDAYS[day.weekday()], [])

    def local_today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def last_day(self, now: datetime) -> date:
        """The last date bookable: today (local) + days_ahead."""
        return self.local_today(now) + timedelta(days=self.days_ahead)


@dataclass(frozen=True)
class Busy:
    """A booking already made: [starts_at, ends_at) in UTC."""

    starts_at: datetime
    ends_at: datetime


def parse_clock(text: str) -> int:
    """ "09:30" -> 570; "24:00" is the end of the day. ValueError otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time like 09:30")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > DAY_MINUTES:
        raise ValueError(f"{text!r} is not a time of day")
    return value


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, each ending after it starts, none overlapping. ValueError otherwise."""
    ordered = sorted(intervals)
    for start, end in ordered:
        if not 0 <= start < end <= DAY_MINUTES:
            raise ValueError(f"{clock(start)}-{clock(end)}: the end must come after the start")
    for (_, end), (start, _) in pairwise(ordered):
        if start < end:
            raise ValueError(f"opening hours overlap at {clock(start)}")
    return ordered


def local_moment(day: date, minutes: int, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall-clock time; None when it does not exist that day
    (clocks jumped over it). An ambiguous time is its first occurrence."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    aware = naive.replace(tzinfo=zone, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return utc


def _closing(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    # A closing time inside a gap closes at the gap's end (the same UTC for fold 0 and 1).
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=zone, fold=1).astimezone(UTC)


def peak(busy: Sequence[Busy], start: datetime, end: datetime) -> int:
    """The most bookings at one instant within [start, end)."""
    edges: list[tuple[datetime, int]] = []
    for item in busy:
        if item.starts_at < end and item.ends_at > start:
            edges.append((max(item.starts_at, start), 1))
            edges.append((min(item.ends_at, end), -1))
    edges.sort()  # at equal times an end (-1) comes before a start (+1): back to back is fine
    most = current = 0
    for _, change in edges:
        current += change
        most = max(most, current)
    return most


def free_slots(
    rules: Rules,
    duration_minutes: int,
    busy: Sequence[Busy],
    now: datetime,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
) -> dict[date, list[datetime]]:
    """The free start times (UTC) per local date, from first_day (default today) to
    last_day (default and at most today + days_ahead); dates without one are left out."""
    zone = ZoneInfo(rules.timezone)
    today = rules.local_today(now)
    begin = max(first_day or today, today)
    end = min(last_day or rules.last_day(now), rules.last_day(now))
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    length = timedelta(minutes=duration_minutes)
    step = max(rules.step_minutes, 5)
    ordered = sorted(busy, key=lambda b: b.starts_at)
    starts = [b.starts_at for b in ordered]
    longest = max((b.ends_at - b.starts_at for b in ordered), default=timedelta())
    out: dict[date, list[datetime]] = {}
    day = begin
    while day <= end:
        found: list[datetime] = []
        for open_at, close_at in rules.opening(day):
            closing = _closing(day, close_at, zone)
            for minutes in range(open_at, close_at, step):
                start = local_moment(day, minutes, zone)
                if start is None or start < earliest:
                    continue
                finish = start + length
                if finish > closing:
                    break
                # Only bookings starting within `longest` before the slot can overlap it.
                low = bisect.bisect_left(starts, start - longest)
                high = bisect.bisect_left(starts, finish)
                if peak(ordered[low:high], start, finish) < rules.capacity:
                    found.append(start)
        if found:
            out[day] = sorted(set(found))
        day += timedelta(days=1)
    return out


def fits(
    rules: Rules, duration_minutes: int, busy: Sequence[Busy], now: datetime, start: datetime
) -> bool:
    """Whether a booking may start at `start` (UTC): the same test free_slots makes."""
    day = start.astimezone(ZoneInfo(rules.timezone)).date()
    found = free_slots(rules, duration_minutes, busy, now, first_day=day, last_day=day)
    return start in found.get(day, [])
