"""Booking in chat through the widget channel's real inbound path: a service, then a day,
then a time; the confirmation in the customer's language; a time taken meanwhile offered
again; "lịch hẹn của tôi" to move or cancel; taps that are not the customer's to make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from chatcart.appointments import service as appointments
from chatcart.appointments.schemas import BookingIn, SpecialDayIn
from chatcart.channels.base import MessageContent
from chatcart.flows import service as flows
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import Booking, Contact
from chatcart.runtime import Runtime
from tests.appointments.helpers import open_salon
from tests.helpers.factory import make_shop
from tests.shop.chat import Customer

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def chip(reply: MessageContent, title: str) -> str:
    """The payload of the quick reply whose title starts with `title`."""
    for quick in reply.quick_replies:
        if quick.title.startswith(title):
            return quick.payload
    raise AssertionError(f"no quick reply {title!r} in {[q.title for q in reply.quick_replies]}")


def tomorrow() -> datetime:
    day = utcnow().astimezone(HCM).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=HCM)


async def test_a_booking_from_service_to_confirmation(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    salon = await open_salon(runtime, shop.workspace_id)
    customer = Customer(runtime, shop)

    [menu] = await customer.say("Shop ơi cho em đặt lịch")
    assert menu.text.splitlines() == [
        "Bạn muốn đặt lịch dịch vụ nào?",
        "1. Tư vấn phối đồ · 30 phút · miễn phí",
        "2. Sửa đồ, lên lai quần · 15 phút · 30.000\xa0₫",
    ]
    assert [q.title for q in menu.quick_replies] == ["Tư vấn phối đồ", "Sửa đồ, lên lai quần"]

    [days] = await customer.tap(chip(menu, "Tư vấn"), "Tư vấn phối đồ")
    assert days.text == "Tư vấn phối đồ (30 phút): bạn muốn hẹn ngày nào?"
    titles = [q.title for q in days.quick_replies]
    assert len(titles) == 8 and titles[-1] == "Ngày khác"  # 7 days, then the rest
    assert f"Ngày mai {tomorrow():%-d/%-m}" in titles

    [times] = await customer.tap(chip(days, "Ngày mai"), "Ngày mai")
    assert (
        times.text == f"Tư vấn phối đồ (30 phút), Ngày mai {tomorrow():%-d/%-m}: bạn chọn giờ nhé."
    )
    assert [q.title for q in times.quick_replies] == [
        "08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00",
        "12:30", "Giờ muộn hơn", "Ngày khác",
    ]  # fmt: skip
    [later] = await customer.tap(chip(times, "Giờ muộn hơn"))
    assert [q.title for q in later.quick_replies][:2] == ["13:00", "13:30"]

    [booked] = await customer.tap(chip(times, "10:00"), "10:00")
    assert booked.text.startswith("✅ Đã đặt lịch Tư vấn phối đồ lúc 10:00, ")
    assert booked.text.endswith(f"{tomorrow():%-d/%-m/%Y}. Hẹn gặp bạn!")
    assert [q.title for q in booked.quick_replies] == ["Lịch hẹn của tôi"]
    async with runtime.sessions() as session:
        row = await session.scalar(select(Booking))
        contact = await session.scalar(select(Contact))
    assert row is not None and contact is not None
    assert (row.service_id, row.status, row.source) == (salon.styling, "booked", "chat")
    assert row.starts_at == tomorrow().replace(hour=10).astimezone(UTC)
    assert row.contact_id == contact.id and row.conversation_id is not None

    # The same time again (an old chip tapped twice) is taken now: the others are offered.
    [again] = await customer.tap(chip(times, "10:00"), "10:00")
    assert again.text.startswith("Tiếc quá, 10:00 vừa có người đặt mất. Bạn chọn giờ khác nhé:")
    assert "10:00" not in [q.title for q in again.quick_replies]
    assert "10:30" in [q.title for q in again.quick_replies]


async def test_a_day_filled_meanwhile_offers_other_days(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    salon = await open_salon(runtime, shop.workspace_id)
    day = tomorrow().date()
    async with transaction(runtime.sessions) as session:
        await appointments.save_special_day(
            session, shop.workspace_id, SpecialDayIn(day=day, hours=[("10:00", "10:30")])
        )
    customer = Customer(runtime, shop)
    [times] = await customer.tap(f"APPT:DAY:vi:{salon.styling}:0:{day:%Y%m%d}:0")
    assert [q.title for q in times.quick_replies] == ["10:00", "Ngày khác"]
    async with transaction(runtime.sessions) as session:  # someone else, at the counter
        await appointments.book(
            session,
            shop.workspace_id,
            BookingIn(service_id=salon.styling, starts_at=tomorrow().replace(hour=10)),
            source="admin",
        )
    [other_days] = await customer.tap(chip(times, "10:00"), "10:00")
    note, question = other_days.text.splitlines()
    assert note == (
        f"Tiếc quá, 10:00 vừa có người đặt mất và Ngày mai {day:%-d/%-m} đã kín lịch. "
        "Bạn chọn ngày khác nhé:"
    )
    assert question == "Tư vấn phối đồ (30 phút): bạn muốn hẹn ngày nào?"
    assert f"Ngày mai {day:%-d/%-m}" not in [q.title for q in other_days.quick_replies]


async def test_my_appointments_to_move_and_cancel(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    salon = await open_salon(runtime, shop.workspace_id)
    customer = Customer(runtime, shop)
    [none] = await customer.say("lịch hẹn của tôi")
    assert none.text == "Bạn chưa có lịch hẹn nào sắp tới."
    assert [q.title for q in none.quick_replies] == ["Đặt lịch"]
    day = tomorrow()
    [times] = await customer.tap(f"APPT:DAY:vi:{salon.hem}:0:{day:%Y%m%d}:0")
    await customer.tap(chip(times, "09:00"))

    [mine] = await customer.say("lich hen cua toi")
    assert mine.text.splitlines()[0] == "Lịch hẹn sắp tới của bạn:"
    assert mine.text.splitlines()[1].startswith("1. Sửa đồ, lên lai quần · 09:00, ")
    assert [q.title for q in mine.quick_replies] == ["Đổi giờ", "Huỷ lịch", "Đặt lịch mới"]

    [days] = await customer.tap(chip(mine, "Đổi giờ"))
    [times] = await customer.tap(chip(days, "Ngày mai"))
    [moved] = await customer.tap(chip(times, "11:30"))
    assert moved.text.startswith("✅ Đã đổi lịch Sửa đồ, lên lai quần sang 11:30, ")
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(Booking))).all()
    assert [(r.starts_at, r.rescheduled_at is not None) for r in rows] == [
        (day.replace(hour=11, minute=30).astimezone(UTC), True)
    ]

    [mine] = await customer.say("lịch hẹn của tôi")
    [question] = await customer.tap(chip(mine, "Huỷ lịch"))
    assert question.text.startswith("Bạn muốn huỷ lịch Sửa đồ, lên lai quần lúc 11:30, ")
    [kept] = await customer.tap(chip(question, "Giữ lịch"))
    assert kept.text == "Dạ, lịch hẹn của bạn vẫn được giữ nguyên."
    [done] = await customer.tap(chip(question, "Huỷ lịch"))
    assert done.text.startswith("Đã huỷ lịch Sửa đồ, lên lai quần lúc 11:30, ")
    async with runtime.sessions() as session:
        row = await session.scalar(select(Booking))
    assert row is not None and (row.status, row.cancelled_by) == ("cancelled", "customer")
    [gone] = await customer.tap(chip(question, "Huỷ lịch"))  # the old chip once more
    assert gone.text == "Không tìm thấy lịch hẹn này (có thể đã huỷ hoặc đã qua)."


async def test_the_customers_language_and_taps_that_are_not_theirs(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    salon = await open_salon(runtime, shop.workspace_id)
    mark = Customer(runtime, shop, visitor="mark")
    [menu] = await mark.say("Hi, can I book an appointment?")
    assert menu.text.splitlines()[:2] == [
        "Which service would you like to book?",
        "1. Styling session · 30 min · free",
    ]
    [days] = await mark.tap(chip(menu, "Alterations"))
    assert days.text == "Alterations (15 min): which day suits you?"
    [times] = await mark.tap(chip(days, "Tomorrow"))
    assert times.text == f"Alterations (15 min), Tomorrow, {tomorrow():%b %-d}: pick a time."
    assert times.quick_replies[0].title == "8:00 AM"
    [booked] = await mark.tap(chip(times, "9:30 AM"))
    assert booked.text.startswith("✅ Booked: Alterations at 9:30 AM on ")
    assert booked.text.endswith(f"{tomorrow():%B %-d, %Y}. See you then!")

    maria = Customer(runtime, shop, visitor="maria")
    [menu] = await maria.say("pwede po magpabook?")
    assert menu.text.startswith("Anong serbisyo ang gusto mong i-book?")
    [mine] = await maria.say("ano po ang appointment ko?")
    assert mine.text == "Wala kang paparating na appointment."

    # Maria forges a tap on Mark's booking: it is not hers to see, move or cancel.
    async with runtime.sessions() as session:
        marks = await session.scalar(select(Booking))
    assert marks is not None
    for forged in (f"APPT:CANCELOK:tl:{marks.id}", f"APPT:MOVE:en:{marks.id}"):
        [refused] = await maria.tap(forged)
        assert "no longer there" in refused.text or "Wala na" in refused.text
    async with runtime.sessions() as session:
        still = await session.scalar(select(Booking))
    assert still is not None and still.status == "booked"
    # Taps that make no sense get the menu (or the service's days), never an error.
    for junk in ("APPT:AT:vi:abc", "APPT:", "APPT:DAY:xx", "APPT:SVC:vi:99999:0"):
        [menu] = await maria.tap(junk)
        assert menu.text.startswith("Bạn muốn đặt lịch dịch vụ nào?") and menu.quick_replies
    [days] = await maria.tap(f"APPT:AT:vi:{salon.hem}:0:yesterday")
    assert days.text == "Sửa đồ, lên lai quần (15 phút): bạn muốn hẹn ngày nào?"


async def test_a_flow_step_books_a_named_service_and_a_shop_without_services(
    runtime: Runtime,
) -> None:
    shop = await make_shop(runtime)
    customer = Customer(runtime, shop)
    [greeting] = await customer.say("đặt lịch")  # no services: the greeter answers
    assert "Shop Áo Thun" in greeting.text
    await open_salon(runtime, shop.workspace_id)
    document = """
flows:
  - id: hem
    name: Hem
    triggers: [{type: keyword, keyword: "lên lai"}]
    start: book
    steps:
      book: {type: appointment, service: "Sửa đồ, lên lai quần"}
  - id: mine
    name: Mine
    triggers: [{type: keyword, keyword: "hẹn của em"}]
    start: show
    steps:
      show: {type: appointment, op: mine}
"""
    async with transaction(runtime.sessions) as session:
        await flows.save(
            session, runtime.secrets, shop.workspace_id, document, publish=True, actor="test"
        )
    [days] = await customer.say("em muốn lên lai quần")
    assert days.text == "Sửa đồ, lên lai quần (15 phút): bạn muốn hẹn ngày nào?"
    [mine] = await customer.say("hẹn của em đâu")
    assert mine.text == "Bạn chưa có lịch hẹn nào sắp tới."


async def test_a_booking_tap_as_the_first_message_of_a_new_visitor(runtime: Runtime) -> None:
    # The conversation and the contact are new in the same inbound batch as the booking
    # that points at them (an old chip kept by a cleared browser, or a forged one).
    shop = await make_shop(runtime)
    salon = await open_salon(runtime, shop.workspace_id)
    start = tomorrow().replace(hour=10).astimezone(UTC)
    [booked] = await Customer(runtime, shop).tap(
        f"APPT:AT:vi:{salon.styling}:0:{start:%Y%m%dT%H%MZ}", "10:00"
    )
    assert booked.text.startswith("✅ Đã đặt lịch Tư vấn phối đồ lúc 10:00, ")
    async with runtime.sessions() as session:
        row = await session.scalar(select(Booking))
    assert row is not None and row.starts_at == start and row.conversation_id is not None
