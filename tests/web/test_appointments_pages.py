"""The admin appointments pages: services (create, edit, bad input explained, delete
refused while it has bookings), opening hours and dates with hours of their own, the
bookings (upcoming and one day) with cancel over HTMX, which tells the customer; CSRF;
another shop's bookings unseen."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from chatcart.appointments import service as appointments
from chatcart.appointments.schemas import BookingIn
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import Booking, OutboundMessage
from chatcart.runtime import Runtime
from tests.appointments.helpers import open_salon
from tests.appointments.test_chat_booking import chip
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.shop.chat import Customer

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def tomorrow_at(hour: int) -> datetime:
    day = utcnow().astimezone(HCM).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=HCM).astimezone(UTC)


async def test_services_and_opening_hours(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}", cookies={"lang": "vi"}) as client,
    ):
        await login(client, shop.email, shop.password)
        empty = html.unescape((await client.get("/admin/appointments")).text)
        assert "Chưa có dịch vụ nào: hãy thêm dịch vụ" in empty
        page = await client.get("/admin/appointments/services")
        csrf = csrf_of(page.text)
        form = {"name_vi": "Tư vấn phối đồ", "name_en": "Styling", "duration": "30",
                "price": "150.000", "currency": "VND", "active": "1", "position": "0"}  # fmt: skip
        assert (await client.post("/admin/appointments/services", data=form)).status_code == 403
        bad = await client.post(
            "/admin/appointments/services", data={**form, "duration": "7", "csrf_token": csrf}
        )
        assert bad.status_code == 422 and "multiple of 5" in bad.text
        assert 'value="Tư vấn phối đồ"' in html.unescape(bad.text)  # the form is kept
        bad_price = await client.post(
            "/admin/appointments/services", data={**form, "price": "abc", "csrf_token": csrf}
        )
        assert "Không đọc được giá" in html.unescape(bad_price.text)
        made = await client.post("/admin/appointments/services", data={**form, "csrf_token": csrf})
        assert made.status_code == 303
        listing = html.unescape((await client.get("/admin/appointments/services")).text)
        assert "Tư vấn phối đồ" in listing and "30 phút" in listing
        assert "150.000\xa0₫" in listing
        async with runtime.sessions() as session:
            [service] = await appointments.list_services(session, shop.workspace_id)
        assert (service.price, service.name_en) == (150000, "Styling")
        edited = await client.post(
            f"/admin/appointments/services/{service.id}",
            data={**form, "price": "", "active": "", "csrf_token": csrf},
        )
        assert edited.status_code == 303
        async with runtime.sessions() as session:
            again = await appointments.get_service(session, shop.workspace_id, service.id)
        assert (again.price, again.active) == (None, False)

        hours = {"csrf_token": csrf, "mon": "09:00-12:00, 13:30-18:00", "tue": "",
                 "wed": "", "thu": "", "fri": "", "sat": "8:00-12:00", "sun": "",
                 "capacity": "2", "step": "30", "notice": "60", "days_ahead": "14"}  # fmt: skip
        for wrong, message in (
            ({"mon": "9h-12h"}, "9h-12h"),
            ({"mon": "09:00-12:00, 11:00-13:00"}, "overlap at 11:00"),
            ({"capacity": "many"}, "số nguyên"),
            ({"step": "7"}, "multiple of 5"),
        ):
            refused = await client.post("/admin/appointments/hours", data={**hours, **wrong})
            assert refused.status_code == 422, wrong
            assert message in html.unescape(refused.text), wrong
        saved = await client.post("/admin/appointments/hours", data=hours)
        assert saved.status_code == 303
        async with runtime.sessions() as session:
            rules = await appointments.rules_of(session, shop.workspace_id)
        assert rules.hours == {"mon": [("09:00", "12:00"), ("13:30", "18:00")],
                               "sat": [("08:00", "12:00")]}  # fmt: skip
        assert (rules.capacity, rules.min_notice_minutes) == (2, 60)
        shown = html.unescape((await client.get("/admin/appointments/hours")).text)
        assert 'value="09:00-12:00, 13:30-18:00"' in shown

        day = (utcnow().astimezone(HCM) + timedelta(days=3)).date()
        no_date = await client.post("/admin/appointments/days", data={"csrf_token": csrf})
        assert "Hãy chọn một ngày." in html.unescape(no_date.text)
        added = await client.post(
            "/admin/appointments/days",
            data={"csrf_token": csrf, "day": day.isoformat(), "hours": "", "note": "Nghỉ lễ"},
        )
        assert added.status_code == 303
        shown = html.unescape((await client.get("/admin/appointments/hours")).text)
        assert f"{day:%d/%m/%Y}" in shown and "Nghỉ lễ" in shown
        removed = await client.post(
            f"/admin/appointments/days/{day.isoformat()}/delete", data={"csrf_token": csrf}
        )
        assert removed.status_code == 303
        async with runtime.sessions() as session:
            assert await appointments.special_days(session, shop.workspace_id) == []


async def test_bookings_by_day_and_a_cancel_that_tells_the_customer(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    salon = await open_salon(runtime, shop.workspace_id)
    theirs = await open_salon(runtime, other.workspace_id)
    customer = Customer(runtime, shop)
    day = tomorrow_at(0).astimezone(HCM).date()
    [times] = await customer.tap(f"APPT:DAY:vi:{salon.styling}:0:{day:%Y%m%d}:0")
    await customer.tap(chip(times, "10:00"))
    async with transaction(runtime.sessions) as session:
        await appointments.book(
            session, other.workspace_id,
            BookingIn(service_id=theirs.styling, starts_at=tomorrow_at(11), customer_name="Khách khác"),
        )  # fmt: skip
        booking = await session.scalar(
            select(Booking).where(Booking.workspace_id == shop.workspace_id)
        )
    assert booking is not None
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}", cookies={"lang": "vi"}) as client,
    ):
        await login(client, shop.email, shop.password)
        upcoming = html.unescape((await client.get("/admin/appointments")).text)
        assert "Tư vấn phối đồ" in upcoming and "10:00–10:30" in upcoming
        assert "Khách khác" not in upcoming
        one_day = html.unescape(
            (await client.get("/admin/appointments", params={"day": day.isoformat()})).text
        )
        assert "10:00–10:30" in one_day and "Mở cửa 08:00-20:00" in one_day
        empty_day = html.unescape(
            (await client.get("/admin/appointments", params={"day": "2020-01-01"})).text
        )
        assert "Ngày này chưa có lịch hẹn." in empty_day
        bad = html.unescape(
            (await client.get("/admin/appointments", params={"day": "hôm qua"})).text
        )
        assert "Đó không phải là ngày" in bad
        csrf = csrf_of(upcoming)
        assert (
            await client.post(f"/admin/appointments/bookings/{booking.id}/cancel")
        ).status_code == 403
        async with runtime.sessions() as session:
            foreign = await session.scalar(
                select(Booking.id).where(Booking.workspace_id == other.workspace_id)
            )
        denied = await client.post(
            f"/admin/appointments/bookings/{foreign}/cancel", headers={"X-CSRF-Token": csrf}
        )
        assert denied.status_code == 404
        row = await client.post(
            f"/admin/appointments/bookings/{booking.id}/cancel",
            headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        )
        assert row.status_code == 200 and row.text.lstrip().startswith("<tr")
        assert "Đã hủy" in html.unescape(row.text) and "<form" not in row.text
        services = await client.get("/admin/appointments/services")
        refused = await client.post(
            f"/admin/appointments/services/{salon.styling}/delete", data={"csrf_token": csrf}
        )
        assert refused.status_code == 409 and "đã có lịch hẹn" in html.unescape(refused.text)
        assert services.status_code == 200
    async with runtime.sessions() as session:
        cancelled = await session.get(Booking, booking.id)
        told = (await session.scalars(
            select(OutboundMessage).where(OutboundMessage.idempotency_key == f"appointment:{booking.id}:cancelled")
        )).all()  # fmt: skip
    assert cancelled is not None and cancelled.status == "cancelled"
    assert cancelled.cancelled_by == shop.email
    assert len(told) == 1 and told[0].purpose == "event_reminder"
    assert "Shop rất tiếc phải huỷ lịch Tư vấn phối đồ lúc 10:00" in told[0].content["text"]


async def test_the_appointments_pages_in_english(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    await open_salon(runtime, shop.workspace_id)
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}", cookies={"lang": "en"}) as client,
    ):
        await login(client, shop.email, shop.password)
        for path, text in (
            ("/admin/appointments", "No upcoming bookings."),
            ("/admin/appointments/services", "Alterations"),
            ("/admin/appointments/hours", "Dates with other hours"),
        ):
            page = await client.get(path)
            assert page.status_code == 200 and text in html.unescape(page.text), path
        assert ">Appointments</a>" in page.text  # in the top bar
