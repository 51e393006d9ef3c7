"""Free slots and bookings: booking never lets more than `capacity` appointments overlap,
also when customers race for the last place; cancelling and moving a booking."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.appointments import repository, rules, slots
from chatcart.appointments.errors import BookingInvalid, BookingNotFound, SlotTaken
from chatcart.appointments.schemas import BookingIn, BookingOut, BookingSource, DaySlots
from chatcart.kit.clock import as_utc, utcnow
from chatcart.models import AppointmentService, Booking

# ---- free slots ---------------------------------------------------------------------------


async def _busy(
    session: AsyncSession,
    workspace_id: int,
    start: datetime,
    end: datetime,
    leave_out: int | None = None,
) -> list[slots.Busy]:
    rows = await repository.busy(session, workspace_id, start, end, leave_out=leave_out)
    return [slots.Busy(as_utc(s), as_utc(e)) for s, e in rows]


def _day_bounds(day_from: date, day_to: date, timezone: str) -> tuple[datetime, datetime]:
    # A little wider than the local days: bookings that overlap their edges count too.
    zone = ZoneInfo(timezone)
    start = datetime(day_from.year, day_from.month, day_from.day, tzinfo=zone)
    end = datetime(day_to.year, day_to.month, day_to.day, tzinfo=zone) + timedelta(days=2)
    return as_utc(start) - timedelta(days=1), as_utc(end)


async def free_slots(
    session: AsyncSession,
    workspace_id: int,
    service_id: int,
    *,
    now: datetime | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
    timezone: str | None = None,
    leave_out: int | None = None,
) -> list[DaySlots]:
    """The service's free start times per local date (UTC), from first_day (default
    today) to last_day (default the last bookable date). `leave_out`: a booking being
    moved does not stand in its own way."""
    now = now or utcnow()
    timezone = timezone or await rules.timezone_of(session, workspace_id)
    service = await rules.service_row(session, workspace_id, service_id)
    plan = await rules.schedule(session, workspace_id, timezone, now)
    begin = max(first_day or plan.local_today(now), plan.local_today(now))
    end = min(last_day or plan.last_day(now), plan.last_day(now))
    if end < begin:
        return []
    low, high = _day_bounds(begin, end, timezone)
    busy = await _busy(session, workspace_id, low, high, leave_out)
    found = slots.free_slots(
        plan, service.duration_minutes, busy, now, first_day=begin, last_day=end
    )
    return [DaySlots(day=day, starts=starts) for day, starts in found.items()]


# ---- bookings -----------------------------------------------------------------------------


def _booking_out(row: Booking, name_vi: str, name_en: str, language: str = "vi") -> BookingOut:
    name = name_vi if language == "vi" or not name_en else name_en
    return BookingOut(
        id=row.id,
        service_id=row.service_id,
        service_name=name,
        contact_id=row.contact_id,
        conversation_id=row.conversation_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status="cancelled" if row.status == "cancelled" else "booked",
        customer_name=row.customer_name,
        phone=row.phone,
        source=row.source,
        created_at=row.created_at,
        rescheduled_at=row.rescheduled_at,
        cancelled_at=row.cancelled_at,
        cancelled_by=row.cancelled_by,
    )


async def _check_free(
    session: AsyncSession,
    workspace_id: int,
    service: AppointmentService,
    start: datetime,
    now: datetime,
    leave_out: int | None = None,
) -> None:
    """Raises SlotTaken unless `start` is a free slot of the service, deciding under the
    workspace's booking lock (held until the caller's transaction ends)."""
    await repository.lock_setting(session, workspace_id)
    timezone = await rules.timezone_of(session, workspace_id)
    plan = await rules.schedule(session, workspace_id, timezone, now)
    end = start + timedelta(minutes=service.duration_minutes)
    longest = timedelta(hours=12)  # a service lasts at most 12 hours (ServiceIn)
    busy = await _busy(session, workspace_id, start - longest, end + longest, leave_out)
    if not slots.fits(plan, service.duration_minutes, busy, now, start):
        raise SlotTaken(
            "that time is no longer free", service_id=service.id, starts_at=start.isoformat()
        )


async def book(
    session: AsyncSession,
    workspace_id: int,
    data: BookingIn,
    *,
    source: BookingSource = "api",
    conversation_id: int | None = None,
    now: datetime | None = None,
) -> BookingOut:
    """Book a free slot. SlotTaken when it is not (any more) free; the caller's
    transaction then rolls back."""
    now = now or utcnow()
    service = await rules.service_row(session, workspace_id, data.service_id)
    if not service.active:
        raise BookingInvalid(f"{service.name_vi} is not bookable now", service_id=service.id)
    start = as_utc(data.starts_at)
    await _check_free(session, workspace_id, service, start, now)
    row = Booking(
        workspace_id=workspace_id,
        service_id=service.id,
        contact_id=data.contact_id,
        conversation_id=conversation_id,
        starts_at=start,
        ends_at=start + timedelta(minutes=service.duration_minutes),
        status="booked",
        customer_name=data.customer_name,
        phone=data.phone,
        source=source,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return _booking_out(row, service.name_vi, service.name_en)


async def _own(
    session: AsyncSession, workspace_id: int, booking_id: int, contact_id: int | None
) -> Booking:
    row = await repository.booking(session, workspace_id, booking_id, lock=True)
    if row is None or (contact_id is not None and row.contact_id != contact_id):
        raise BookingNotFound(f"no booking {booking_id}")
    return row


async def reschedule(
    session: AsyncSession,
    workspace_id: int,
    booking_id: int,
    starts_at: datetime,
    *,
    contact_id: int | None = None,
    now: datetime | None = None,
) -> BookingOut:
    """Move a booking to another free slot of its service (`contact_id`: only if it is
    theirs). SlotTaken when that slot is not free; the booking keeps its time then."""
    now = now or utcnow()
    row = await _own(session, workspace_id, booking_id, contact_id)
    if row.status != "booked" or as_utc(row.ends_at) <= now:
        raise BookingInvalid("only an upcoming booking can be moved", booking_id=row.id)
    service = await rules.service_row(session, workspace_id, row.service_id)
    start = as_utc(starts_at)
    await _check_free(session, workspace_id, service, start, now, leave_out=row.id)
    row.starts_at = start
    row.ends_at = start + timedelta(minutes=service.duration_minutes)
    row.rescheduled_at = now
    await session.flush()
    return _booking_out(row, service.name_vi, service.name_en)


async def cancel(
    session: AsyncSession,
    workspace_id: int,
    booking_id: int,
    *,
    by: str,
    contact_id: int | None = None,
    now: datetime | None = None,
) -> BookingOut:
    """Cancel a booking (`contact_id`: only if it is theirs). Cancelling twice is a no-op."""
    row = await _own(session, workspace_id, booking_id, contact_id)
    service = await rules.service_row(session, workspace_id, row.service_id)
    if row.status != "cancelled":
        row.status = "cancelled"
        row.cancelled_at = now or utcnow()
        row.cancelled_by = by[:200]
        await session.flush()
    return _booking_out(row, service.name_vi, service.name_en)


async def get_booking(
    session: AsyncSession, workspace_id: int, booking_id: int, language: str = "vi"
) -> BookingOut:
    row = await repository.booking(session, workspace_id, booking_id)
    if row is None:
        raise BookingNotFound(f"no booking {booking_id}")
    service = await rules.service_row(session, workspace_id, row.service_id)
    return _booking_out(row, service.name_vi, service.name_en, language)


async def list_bookings(
    session: AsyncSession,
    workspace_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    contact_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    language: str = "vi",
) -> list[BookingOut]:
    """By start time; `start`/`end` keep those overlapping [start, end)."""
    rows = await repository.bookings(
        session,
        workspace_id,
        start=start,
        end=end,
        status=status,
        contact_id=contact_id,
        limit=limit,
        offset=offset,
    )
    return [_booking_out(row, vi, en, language) for row, vi, en in rows]


async def upcoming_of(
    session: AsyncSession,
    workspace_id: int,
    contact_id: int,
    *,
    now: datetime | None = None,
    language: str = "vi",
    limit: int = 5,
) -> list[BookingOut]:
    """A customer's booked appointments that have not ended yet, soonest first."""
    return await list_bookings(
        session,
        workspace_id,
        start=now or utcnow(),
        status="booked",
        contact_id=contact_id,
        limit=limit,
        language=language,
    )
