"""The shop's bookable services, its booking rules (opening hours per weekday, capacity,
slot step, notice, horizon) and dates with other hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.appointments import repository, slots
from chatcart.appointments.errors import BookingInvalid, ServiceInUse, ServiceNotFound
from chatcart.appointments.schemas import (
    BookingRules,
    ServiceIn,
    ServiceOut,
    SpecialDayIn,
    SpecialDayOut,
)
from chatcart.kit.clock import utcnow
from chatcart.models import AppointmentDay, AppointmentService
from chatcart.workspaces import service as workspaces

# ---- services -----------------------------------------------------------------------------


async def list_services(
    session: AsyncSession, workspace_id: int, *, active_only: bool = False
) -> list[ServiceOut]:
    rows = await repository.services(session, workspace_id, active_only=active_only)
    return [ServiceOut.model_validate(row) for row in rows]


async def service_row(
    session: AsyncSession, workspace_id: int, service_id: int
) -> AppointmentService:
    row = await repository.service(session, workspace_id, service_id)
    if row is None:
        raise ServiceNotFound(f"no service {service_id}")
    return row


async def get_service(session: AsyncSession, workspace_id: int, service_id: int) -> ServiceOut:
    return ServiceOut.model_validate(await service_row(session, workspace_id, service_id))


async def save_service(
    session: AsyncSession, workspace_id: int, data: ServiceIn, service_id: int | None = None
) -> ServiceOut:
    """Create a service, or change the one given."""
    if service_id is None:
        row = AppointmentService(workspace_id=workspace_id)
        session.add(row)
    else:
        row = await service_row(session, workspace_id, service_id)
    for key, value in data.model_dump().items():
        setattr(row, key, value)
    await session.flush()
    return ServiceOut.model_validate(row)


async def delete_service(session: AsyncSession, workspace_id: int, service_id: int) -> None:
    row = await service_row(session, workspace_id, service_id)
    if await repository.count_bookings_of_service(session, row.id):
        raise ServiceInUse(
            f"{row.name_vi} has bookings; deactivate it instead so they are kept",
            service_id=row.id,
        )
    await session.delete(row)
    await session.flush()


# ---- booking rules and dates with other hours ---------------------------------------------


async def rules_of(session: AsyncSession, workspace_id: int) -> BookingRules:
    row = await repository.setting(session, workspace_id)
    if row is None:
        return BookingRules()
    return BookingRules(
        hours=row.hours,
        capacity=row.capacity,
        step_minutes=row.step_minutes,
        min_notice_minutes=row.min_notice_minutes,
        days_ahead=row.days_ahead,
    )


async def save_rules(session: AsyncSession, workspace_id: int, new: BookingRules) -> BookingRules:
    row = await repository.lock_setting(session, workspace_id)
    row.hours = {day: [list(pair) for pair in pairs] for day, pairs in new.hours.items()}
    row.capacity = new.capacity
    row.step_minutes = new.step_minutes
    row.min_notice_minutes = new.min_notice_minutes
    row.days_ahead = new.days_ahead
    row.updated_at = utcnow()
    await session.flush()
    return await rules_of(session, workspace_id)


def _day_out(row: AppointmentDay) -> SpecialDayOut:
    hours = [tuple(pair) for pair in row.hours.get("hours", [])]
    return SpecialDayOut(id=row.id, day=row.day, hours=hours, note=row.note)


async def special_days(
    session: AsyncSession, workspace_id: int, *, since: date | None = None
) -> list[SpecialDayOut]:
    return [_day_out(r) for r in await repository.special_days(session, workspace_id, since=since)]


async def save_special_day(
    session: AsyncSession, workspace_id: int, data: SpecialDayIn
) -> SpecialDayOut:
    """A date's own hours (none: closed); a date given again replaces its hours."""
    row = await repository.special_day(session, workspace_id, data.day)
    if row is None:
        row = AppointmentDay(workspace_id=workspace_id, day=data.day)
        session.add(row)
    row.hours = {"hours": [list(pair) for pair in data.hours]}
    row.note = data.note
    await session.flush()
    return _day_out(row)


async def delete_special_day(session: AsyncSession, workspace_id: int, day: date) -> None:
    row = await repository.special_day(session, workspace_id, day)
    if row is None:
        raise BookingInvalid(f"{day.isoformat()} has no hours of its own")
    await session.delete(row)
    await session.flush()


def _minutes(pairs: list[tuple[str, str]]) -> list[slots.Interval]:
    return [(slots.parse_clock(a), slots.parse_clock(b)) for a, b in pairs]


async def schedule(
    session: AsyncSession, workspace_id: int, timezone: str, now: datetime
) -> slots.Rules:
    """The rules as the slot computation takes them (dates with other hours from today)."""
    saved = await rules_of(session, workspace_id)
    today = now.astimezone(ZoneInfo(timezone)).date()
    days = await repository.special_days(session, workspace_id, since=today - timedelta(days=1))
    return slots.Rules(
        timezone=timezone,
        hours={day: _minutes(pairs) for day, pairs in saved.hours.items()},
        days={d.day: _minutes([tuple(p) for p in d.hours.get("hours", [])]) for d in days},
        capacity=saved.capacity,
        step_minutes=saved.step_minutes,
        min_notice_minutes=saved.min_notice_minutes,
        days_ahead=saved.days_ahead,
    )


async def timezone_of(session: AsyncSession, workspace_id: int) -> str:
    return (await workspaces.get(session, workspace_id)).timezone
