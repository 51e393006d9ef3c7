"""Booking on the database: services, rules and dates with hours of their own; a booking
takes a free slot and only a free one; customers racing for the last place make exactly
`capacity` bookings (on SQLite and PostgreSQL); moving and cancelling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from chatcart.appointments import service as appointments
from chatcart.appointments.errors import (
    BookingInvalid,
    BookingNotFound,
    ServiceInUse,
    ServiceNotFound,
    SlotTaken,
)
from chatcart.appointments.schemas import BookingIn, BookingRules, ServiceIn, SpecialDayIn
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError
from chatcart.runtime import Runtime
from tests.appointments.helpers import open_salon
from tests.helpers.factory import make_shop

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = utcnow().astimezone(HCM).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HCM).astimezone(UTC)


async def test_rules_services_and_dates_of_their_own(runtime: Runtime) -> None:
    ws = (await make_shop(runtime)).workspace_id
    salon = await open_salon(runtime, ws)
    async with runtime.sessions() as session:
        rules = await appointments.rules_of(session, ws)
        names = [s.name("en") for s in await appointments.list_services(session, ws)]
    assert rules.hours["mon"] == [("08:00", "20:00")] and rules.capacity == 1
    assert names == ["Styling session", "Alterations"]
    with pytest.raises(ValidationError, match="overlap at 11:00"):
        BookingRules(hours={"mon": [("09:00", "12:00"), ("11:00", "13:00")]})
    with pytest.raises(ValidationError, match="not a weekday"):
        BookingRules(hours={"monday": [("09:00", "12:00")]})
    with pytest.raises(ValidationError, match="multiple of 5"):
        ServiceIn(name_vi="Cắt", duration_minutes=7)

    day = utcnow().astimezone(HCM).date() + timedelta(days=1)
    async with transaction(runtime.sessions) as session:
        await appointments.save_special_day(session, ws, SpecialDayIn(day=day, note="Nghỉ lễ"))
        closed = await appointments.free_slots(
            session, ws, salon.styling, first_day=day, last_day=day
        )
        await appointments.save_special_day(
            session, ws, SpecialDayIn(day=day, hours=[("10:00", "11:00")])
        )
        short = await appointments.free_slots(
            session, ws, salon.styling, first_day=day, last_day=day
        )
        kept = await appointments.special_days(session, ws)
    assert closed == []
    assert [s.astimezone(HCM).strftime("%H:%M") for s in short[0].starts] == ["10:00", "10:30"]
    assert [(d.day, d.hours, d.note) for d in kept] == [(day, [("10:00", "11:00")], "")]
    async with transaction(runtime.sessions) as session:
        await appointments.delete_special_day(session, ws, day)
        assert await appointments.special_days(session, ws) == []


async def test_a_booking_takes_a_free_slot_and_only_a_free_one(runtime: Runtime) -> None:
    ws = (await make_shop(runtime)).workspace_id
    salon = await open_salon(runtime, ws)
    ten = tomorrow_at(10)
    async with transaction(runtime.sessions) as session:
        made = await appointments.book(
            session, ws, BookingIn(service_id=salon.styling, starts_at=ten, customer_name="Lan")
        )
    assert (made.starts_at, made.ends_at - made.starts_at) == (ten, timedelta(minutes=30))
    assert made.service_name == "Tư vấn phối đồ" and made.status == "booked"
    refused = [
        (tomorrow_at(10), SlotTaken),  # the one chair is taken
        (tomorrow_at(10, 15), SlotTaken),  # overlaps it
        (tomorrow_at(10, 10), SlotTaken),  # off the 30-minute grid
        (tomorrow_at(19, 45), SlotTaken),  # the hem (15 min) would fit; styling does not
        (tomorrow_at(7, 30), SlotTaken),  # before opening
        (utcnow() + timedelta(days=30), SlotTaken),  # beyond days_ahead
    ]
    for start, error in refused:
        with pytest.raises(error):
            async with transaction(runtime.sessions) as session:
                await appointments.book(
                    session, ws, BookingIn(service_id=salon.styling, starts_at=start)
                )
    async with transaction(runtime.sessions) as session:
        hem = await appointments.book(
            session, ws, BookingIn(service_id=salon.hem, starts_at=tomorrow_at(19, 30))
        )
        slots = await appointments.free_slots(
            session,
            ws,
            salon.hem,
            first_day=ten.astimezone(HCM).date(),
            last_day=ten.astimezone(HCM).date(),
        )
    assert hem.ends_at == tomorrow_at(19, 45)
    assert ten not in slots[0].starts and tomorrow_at(10, 30) in slots[0].starts
    other = await make_shop(runtime, slug="other")
    with pytest.raises(ServiceNotFound):  # another shop's service
        async with transaction(runtime.sessions) as session:
            await appointments.book(
                session, other.workspace_id, BookingIn(service_id=salon.styling, starts_at=ten)
            )


async def test_moving_and_cancelling(runtime: Runtime) -> None:
    ws = (await make_shop(runtime)).workspace_id
    salon = await open_salon(runtime, ws)
    async with transaction(runtime.sessions) as session:
        first = await appointments.book(
            session, ws, BookingIn(service_id=salon.styling, starts_at=tomorrow_at(10))
        )
        second = await appointments.book(
            session, ws, BookingIn(service_id=salon.styling, starts_at=tomorrow_at(11))
        )
    with pytest.raises(SlotTaken):  # onto the other booking
        async with transaction(runtime.sessions) as session:
            await appointments.reschedule(session, ws, first.id, tomorrow_at(11))
    async with transaction(runtime.sessions) as session:
        # Half an hour later overlaps its own old time only: allowed.
        moved = await appointments.reschedule(session, ws, first.id, tomorrow_at(10, 30))
    assert moved.starts_at == tomorrow_at(10, 30) and moved.rescheduled_at is not None
    with pytest.raises(BookingNotFound):  # someone else's
        async with transaction(runtime.sessions) as session:
            await appointments.cancel(session, ws, second.id, by="customer", contact_id=999)
    async with transaction(runtime.sessions) as session:
        cancelled = await appointments.cancel(session, ws, second.id, by="owner@shop.test")
        again = await appointments.cancel(session, ws, second.id, by="someone else")
        free = await appointments.free_slots(
            session, ws, salon.styling, first_day=tomorrow_at(11).astimezone(HCM).date()
        )
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "owner@shop.test")
    assert again.cancelled_by == "owner@shop.test"  # cancelling twice changes nothing
    assert tomorrow_at(11) in free[0].starts
    with pytest.raises(BookingInvalid):
        async with transaction(runtime.sessions) as session:
            await appointments.reschedule(session, ws, second.id, tomorrow_at(12))
    with pytest.raises(ServiceInUse):
        async with transaction(runtime.sessions) as session:
            await appointments.delete_service(session, ws, salon.styling)
    async with transaction(runtime.sessions) as session:
        listed = await appointments.list_bookings(session, ws, status="booked", language="en")
    assert [(b.id, b.service_name) for b in listed] == [(first.id, "Styling session")]


@pytest.mark.parametrize("capacity", [1, 2])
async def test_customers_racing_for_the_last_places_make_capacity_bookings(
    runtime: Runtime, capacity: int
) -> None:
    ws = (await make_shop(runtime)).workspace_id
    salon = await open_salon(runtime, ws, capacity=capacity)
    ten = tomorrow_at(10)
    start = asyncio.Event()

    async def book(n: int) -> str:
        await start.wait()
        try:
            async with transaction(runtime.sessions) as session:
                await appointments.book(
                    session,
                    ws,
                    BookingIn(service_id=salon.styling, starts_at=ten, customer_name=f"Khách {n}"),
                )
        except AppError as exc:
            return exc.code
        return "booked"

    racers = [asyncio.create_task(book(n)) for n in range(8)]
    start.set()
    results = await asyncio.gather(*racers)
    assert sorted(results) == ["booked"] * capacity + ["slot_taken"] * (8 - capacity)
    async with runtime.sessions() as session:
        made = await appointments.list_bookings(session, ws)
        free = await appointments.free_slots(
            session, ws, salon.styling, first_day=ten.astimezone(HCM).date()
        )
    assert [b.starts_at for b in made] == [ten] * capacity
    assert ten not in free[0].starts
