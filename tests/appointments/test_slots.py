"""Free slots, pure: opening hours (with breaks and dates of their own), service length,
step, capacity with bookings back to back or overlapping, notice, horizon, and days on
which clocks move (New York) beside zones without daylight saving (Ho Chi Minh, Manila).
A property test checks free_slots against a minute-by-minute count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcart.appointments.slots import (
    Busy,
    Rules,
    check_intervals,
    fits,
    free_slots,
    local_moment,
    parse_clock,
    peak,
)

HCM = "Asia/Ho_Chi_Minh"
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def at(zone: str, text: str) -> datetime:
    """A local wall-clock time as UTC: at(HCM, '2026-11-23 09:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local(zone: str, moments: list[datetime]) -> list[str]:
    return [m.astimezone(ZoneInfo(zone)).strftime("%H:%M") for m in moments]


def rules(zone: str = HCM, **changes: object) -> Rules:
    values: dict[str, object] = {
        "timezone": zone,
        "hours": {"mon": [(9 * 60, 12 * 60), (13 * 60 + 30, 18 * 60)]},
        "capacity": 1,
        "step_minutes": 30,
        "min_notice_minutes": 0,
        "days_ahead": 14,
    }
    values.update(changes)
    return Rules(**values)  # type: ignore[arg-type]


MONDAY = date(2026, 11, 23)
SUNDAY_NOON = at(HCM, "2026-11-22 12:00")


def test_opening_hours_with_a_lunch_break_and_the_service_length() -> None:
    found = free_slots(rules(), 60, [], SUNDAY_NOON)
    assert list(found) == [MONDAY, MONDAY + timedelta(days=7)]  # only Mondays open
    # A 60-minute service never runs over 12:00 or 18:00.
    assert local(HCM, found[MONDAY]) == [
        "09:00", "09:30", "10:00", "10:30", "11:00",
        "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00",
    ]  # fmt: skip
    assert found[MONDAY][0] == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # stored UTC
    fifteen = free_slots(rules(step_minutes=15), 15, [], SUNDAY_NOON)[MONDAY]
    assert local(HCM, fifteen)[:3] == ["09:00", "09:15", "09:30"]
    assert local(HCM, fifteen)[-1] == "17:45"


def test_bookings_fill_the_capacity() -> None:
    ten = at(HCM, "2026-11-23 10:00")
    one = [Busy(ten, ten + timedelta(minutes=30))]
    free = local(HCM, free_slots(rules(), 30, one, SUNDAY_NOON)[MONDAY])
    assert "10:00" not in free and {"09:30", "10:30"} <= set(free)
    # A 60-minute service starting 09:30 would overlap it too.
    assert "09:30" not in local(HCM, free_slots(rules(), 60, one, SUNDAY_NOON)[MONDAY])
    two_chairs = rules(capacity=2)
    assert "10:00" in local(HCM, free_slots(two_chairs, 30, one, SUNDAY_NOON)[MONDAY])
    both = [*one, Busy(ten, ten + timedelta(minutes=30))]
    assert "10:00" not in local(HCM, free_slots(two_chairs, 30, both, SUNDAY_NOON)[MONDAY])


def test_back_to_back_bookings_leave_room_that_overlapping_ones_do_not() -> None:
    ten = at(HCM, "2026-11-23 10:00")
    half = timedelta(minutes=30)
    back_to_back = [Busy(ten, ten + half), Busy(ten + half, ten + 2 * half)]
    # Never more than one at a time from 10:00 to 11:00: a second chair is still free.
    assert peak(back_to_back, ten, ten + 2 * half) == 1
    assert fits(rules(capacity=2), 60, back_to_back, SUNDAY_NOON, ten)
    overlapping = [*back_to_back, Busy(ten + half / 2, ten + half * 1.5)]
    assert peak(overlapping, ten, ten + 2 * half) == 2
    assert not fits(rules(capacity=2), 60, overlapping, SUNDAY_NOON, ten)


def test_notice_and_the_days_ahead() -> None:
    monday_morning = at(HCM, "2026-11-23 08:40")
    found = free_slots(rules(min_notice_minutes=120), 30, [], monday_morning)
    assert local(HCM, found[MONDAY])[0] == "11:00"  # 08:40 + 2 h, on the 30-minute grid
    assert list(free_slots(rules(days_ahead=6), 30, [], monday_morning)) == [MONDAY]
    assert list(free_slots(rules(days_ahead=7), 30, [], monday_morning)) == [
        MONDAY, MONDAY + timedelta(days=7),
    ]  # fmt: skip
    evening = at(HCM, "2026-11-23 18:00")
    assert MONDAY not in free_slots(rules(), 30, [], evening)  # today is over
    assert free_slots(rules(), 30, [], SUNDAY_NOON, first_day=date(2026, 1, 1)) == free_slots(
        rules(), 30, [], SUNDAY_NOON
    )  # never before today


def test_dates_with_hours_of_their_own() -> None:
    closed = rules(days={MONDAY: []})
    assert MONDAY not in free_slots(closed, 30, [], SUNDAY_NOON)
    saturday = date(2026, 11, 28)
    special = rules(days={saturday: [(8 * 60, 9 * 60)]})
    found = free_slots(special, 30, [], SUNDAY_NOON)
    assert local(HCM, found[saturday]) == ["08:00", "08:30"]


def test_manila_without_daylight_saving() -> None:
    manila = "Asia/Manila"
    sunday = at(manila, "2026-11-22 12:00")
    found = free_slots(rules(manila, hours={"mon": [(10 * 60, 11 * 60)]}), 30, [], sunday)
    assert found[MONDAY] == [datetime(2026, 11, 23, 2, 0, tzinfo=UTC), datetime(2026, 11, 23, 2, 30, tzinfo=UTC)]  # fmt: skip


def test_a_night_when_clocks_go_forward() -> None:
    ny = "America/New_York"
    night = rules(ny, hours={d: [(0, 6 * 60)] for d in EVERY_DAY}, days_ahead=3)
    day = date(2026, 3, 8)  # 02:00 becomes 03:00
    found = free_slots(night, 60, [], at(ny, "2026-03-07 12:00"))[day]
    starts = local(ny, found)
    assert "02:00" not in starts and "02:30" not in starts  # those times do not exist
    assert starts == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30", "05:00"]  # fmt: skip
    # 01:30 EST + 60 minutes is 03:30 EDT: the service ends in time.
    assert found[3] - found[2] == timedelta(minutes=30)
    assert local_moment(day, 2 * 60 + 15, ZoneInfo(ny)) is None


def test_a_night_when_clocks_go_back() -> None:
    ny = "America/New_York"
    night = rules(ny, hours={d: [(0, 3 * 60)] for d in EVERY_DAY}, days_ahead=3)
    day = date(2026, 11, 1)  # 02:00 becomes 01:00: 01:00-02:00 happens twice
    found = free_slots(night, 60, [], at(ny, "2026-10-31 12:00"))[day]
    assert len(found) == len(set(found))
    # Ambiguous starts are taken at their first occurrence (EDT).
    assert found[2] == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT
    # The night is four real hours long: the last 60-minute start is 02:00 EST.
    assert found[-1].astimezone(ZoneInfo(ny)).strftime("%H:%M %Z") == "02:00 EST"


def test_clock_times_and_intervals_are_checked() -> None:
    assert parse_clock("09:30") == 570 and parse_clock("24:00") == 1440
    for bad in ("9h30", "25:00", "09:60", "", "09:5"):
        with pytest.raises(ValueError, match="not a time"):
            parse_clock(bad)
    with pytest.raises(ValueError, match="end must come after"):
        check_intervals([(600, 540)])
    with pytest.raises(ValueError, match="overlap at 11:00"):
        check_intervals([(540, 720), (660, 780)])
    assert check_intervals([(800, 900), (540, 600)]) == [(540, 600), (800, 900)]


# ---- against a brute force ----------------------------------------------------------------


def _brute(plan: Rules, minutes: int, busy: list[Busy], now: datetime) -> set[datetime]:
    """Every opening start on the grid, tested minute by minute."""
    zone = ZoneInfo(plan.timezone)
    out = set()
    today = now.astimezone(zone).date()
    for offset in range(plan.days_ahead + 1):
        day = today + timedelta(days=offset)
        for open_at, close_at in plan.opening(day):
            for start_minute in range(open_at, close_at, plan.step_minutes):
                start = local_moment(day, start_minute, zone)
                close = local_moment(day, close_at, zone) if close_at < 1440 else None
                if start is None or start < now + timedelta(minutes=plan.min_notice_minutes):
                    continue
                end = start + timedelta(minutes=minutes)
                if close is not None and end > close:
                    continue
                if close is None and end > local_moment(day + timedelta(days=1), 0, zone):  # type: ignore[operator]
                    continue
                moments = [start + timedelta(minutes=m) for m in range(minutes)]
                if all(
                    sum(b.starts_at <= t < b.ends_at for b in busy) < plan.capacity for t in moments
                ):
                    out.add(start)
    return out


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 3),
    step=st.sampled_from([15, 30, 45]),
    minutes=st.sampled_from([15, 30, 60, 90]),
    notice=st.sampled_from([0, 60, 240]),
    bookings=st.lists(
        st.tuples(st.integers(0, 2 * 24 * 4), st.sampled_from([15, 30, 45, 60, 120])),
        max_size=12,
    ),
)
def test_free_slots_agree_with_a_minute_by_minute_count(
    capacity: int, step: int, minutes: int, notice: int, bookings: list[tuple[int, int]]
) -> None:
    now = at(HCM, "2026-11-23 07:10")
    plan = rules(
        hours={"mon": [(8 * 60, 12 * 60), (13 * 60, 17 * 60)], "tue": [(9 * 60, 24 * 60)]},
        capacity=capacity,
        step_minutes=step,
        min_notice_minutes=notice,
        days_ahead=1,
    )
    midnight = at(HCM, "2026-11-23 00:00")
    busy = [
        Busy(midnight + timedelta(minutes=15 * q), midnight + timedelta(minutes=15 * q + length))
        for q, length in bookings
    ]
    found = free_slots(plan, minutes, busy, now)
    got = {s for starts in found.values() for s in starts}
    assert got == _brute(plan, minutes, busy, now)
    assert all(fits(plan, minutes, busy, now, s) for s in list(got)[:5])
