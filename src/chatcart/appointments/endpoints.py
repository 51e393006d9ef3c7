"""/api/v1/appointments: the services, the booking rules, free slots and bookings of the
token's workspace; booking and cancelling go through the same checks as in chat."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from chatcart.appointments import service
from chatcart.appointments.schemas import (
    BookingIn,
    BookingOut,
    BookingRules,
    BookingStatus,
    DaySlots,
    ServiceOut,
    SpecialDayOut,
)
from chatcart.http_deps import ApiPrincipal, DbSession
from chatcart.kit.errors import ValidationFailed
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/appointments", tags=["appointments"])


class Schedule(BaseModel):
    """The booking rules, with the dates from today on that have hours of their own."""

    timezone: str = Field(description="Opening hours are local times in this zone.")
    rules: BookingRules
    special_days: list[SpecialDayOut]


class CancelIn(BaseModel):
    reason: str = Field(default="", max_length=200, description="Kept as who cancelled.")


@router.get("/services", response_model=list[ServiceOut])
async def list_services(
    principal: ApiPrincipal, session: DbSession, active: bool | None = None
) -> list[ServiceOut]:
    """Every service, in the order customers see them (`active=true`: only those offered)."""
    found = await service.list_services(session, principal.workspace_id, active_only=bool(active))
    return [s for s in found if active is None or s.active == active]


@router.get("/schedule", response_model=Schedule)
async def schedule(principal: ApiPrincipal, session: DbSession) -> Schedule:
    """Opening hours per weekday, capacity, slot step, notice and days ahead."""
    workspace = await workspaces.get(session, principal.workspace_id)
    return Schedule(
        timezone=workspace.timezone,
        rules=await service.rules_of(session, principal.workspace_id),
        special_days=await service.special_days(session, principal.workspace_id),
    )


@router.get("/services/{service_id}/slots", response_model=list[DaySlots])
async def free_slots(
    service_id: int,
    principal: ApiPrincipal,
    session: DbSession,
    first_day: Annotated[date | None, Query(alias="from", description="Local date.")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="Local date.")] = None,
) -> list[DaySlots]:
    """The free start times (UTC) per local date, within the bookable days."""
    if first_day and last_day and last_day < first_day:
        raise ValidationFailed("'to' is before 'from'")
    return await service.free_slots(
        session, principal.workspace_id, service_id, first_day=first_day, last_day=last_day
    )


@router.get("/bookings", response_model=list[BookingOut])
async def list_bookings(
    principal: ApiPrincipal,
    session: DbSession,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    status: BookingStatus | None = None,
    contact_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[BookingOut]:
    """By start time; `from`/`to` keep the bookings overlapping that time."""
    return await service.list_bookings(
        session,
        principal.workspace_id,
        start=start,
        end=end,
        status=status,
        contact_id=contact_id,
        limit=limit,
        offset=offset,
    )


@router.get("/bookings/{booking_id}", response_model=BookingOut)
async def get_booking(booking_id: int, principal: ApiPrincipal, session: DbSession) -> BookingOut:
    return await service.get_booking(session, principal.workspace_id, booking_id)


@router.post("/bookings", response_model=BookingOut, status_code=201)
async def book(data: BookingIn, principal: ApiPrincipal, session: DbSession) -> BookingOut:
    """Book one of the service's free slots; 409 `slot_taken` when it is not free (any more)."""
    return await service.book(session, principal.workspace_id, data, source="api")


@router.post("/bookings/{booking_id}/cancel", response_model=BookingOut)
async def cancel(
    booking_id: int, principal: ApiPrincipal, session: DbSession, data: CancelIn | None = None
) -> BookingOut:
    """Cancel a booking (a second cancel changes nothing). The customer is not messaged."""
    who = f"api:{principal.workspace_id}" + (f" ({data.reason})" if data and data.reason else "")
    return await service.cancel(session, principal.workspace_id, booking_id, by=who)
