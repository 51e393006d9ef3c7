"""The appointments room's queries."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.clock import utcnow
from chatcart.models import AppointmentDay, AppointmentService, AppointmentSetting, Booking


async def services(
    session: AsyncSession, workspace_id: int, *, active_only: bool = False
) -> list[AppointmentService]:
    query = select(AppointmentService).where(AppointmentService.workspace_id == workspace_id)
    if active_only:
        query = query.where(AppointmentService.active.is_(True))
    rows = await session.scalars(query.order_by(AppointmentService.position, AppointmentService.id))
    return list(rows.all())


async def service(
    session: AsyncSession, workspace_id: int, service_id: int
) -> AppointmentService | None:
    return await session.scalar(
        select(AppointmentService).where(
            AppointmentService.id == service_id, AppointmentService.workspace_id == workspace_id
        )
    )


async def has_active_services(session: AsyncSession, workspace_id: int) -> bool:
    found = await session.scalar(
        select(AppointmentService.id)
        .where(AppointmentService.workspace_id == workspace_id, AppointmentService.active.is_(True))
        .limit(1)
    )
    return found is not None


async def count_bookings_of_service(session: AsyncSession, service_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Booking).where(Booking.service_id == service_id)
    )
    return int(found or 0)


async def setting(session: AsyncSession, workspace_id: int) -> AppointmentSetting | None:
    return await session.scalar(
        select(AppointmentSetting).where(AppointmentSetting.workspace_id == workspace_id)
    )


async def lock_setting(session: AsyncSession, workspace_id: int) -> AppointmentSetting:
    """The workspace's rules row, created when missing, locked until the transaction ends:
    bookings of one workspace are decided one at a time."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    table = cast(Table, AppointmentSetting.__table__)
    await session.execute(
        insert(table)
        .values(
            workspace_id=workspace_id,
            hours={},
            capacity=1,
            step_minutes=30,
            min_notice_minutes=120,
            days_ahead=14,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["workspace_id"])
    )
    row = await session.scalar(
        select(AppointmentSetting)
        .where(AppointmentSetting.workspace_id == workspace_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def special_days(
    session: AsyncSession, workspace_id: int, *, since: date | None = None
) -> list[AppointmentDay]:
    query = select(AppointmentDay).where(AppointmentDay.workspace_id == workspace_id)
    if since is not None:
        query = query.where(AppointmentDay.day >= since)
    return list((await session.scalars(query.order_by(AppointmentDay.day))).all())


async def special_day(session: AsyncSession, workspace_id: int, day: date) -> AppointmentDay | None:
    return await session.scalar(
        select(AppointmentDay).where(
            AppointmentDay.workspace_id == workspace_id, AppointmentDay.day == day
        )
    )


async def busy(
    session: AsyncSession,
    workspace_id: int,
    start: datetime,
    end: datetime,
    *,
    leave_out: int | None = None,
) -> list[tuple[datetime, datetime]]:
    """(starts_at, ends_at) of the booked appointments overlapping [start, end)."""
    query = select(Booking.starts_at, Booking.ends_at).where(
        Booking.workspace_id == workspace_id,
        Booking.status == "booked",
        Booking.starts_at < end,
        Booking.ends_at > start,
    )
    if leave_out is not None:
        query = query.where(Booking.id != leave_out)
    rows = await session.execute(query.order_by(Booking.starts_at))
    return [(row[0], row[1]) for row in rows.all()]


async def booking(
    session: AsyncSession, workspace_id: int, booking_id: int, *, lock: bool = False
) -> Booking | None:
    query = select(Booking).where(Booking.id == booking_id, Booking.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def bookings(
    session: AsyncSession,
    workspace_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    contact_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[Booking, str, str]]:
    """Bookings by start time, with their service's names (vi, en)."""
    query = (
        select(Booking, AppointmentService.name_vi, AppointmentService.name_en)
        .join(AppointmentService, AppointmentService.id == Booking.service_id)
        .where(Booking.workspace_id == workspace_id)
    )
    if start is not None:
        query = query.where(Booking.ends_at > start)
    if end is not None:
        query = query.where(Booking.starts_at < end)
    if status is not None:
        query = query.where(Booking.status == status)
    if contact_id is not None:
        query = query.where(Booking.contact_id == contact_id)
    query = query.order_by(Booking.starts_at, Booking.id).limit(limit).offset(offset)
    rows = await session.execute(query)
    return [(row[0], row[1], row[2]) for row in rows.all()]
