"""Booking in a real browser: a shopper books a styling session through the demo widget
(greeting chip, phone, service, day, time); the owner sees it on the admin appointments
page and cancels it (HTMX, no reload); the shopper is told in the widget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DemoServer, NewPerson
from tests.browser.test_demo_journey import LIVE, log_in, save_shot, say, widget

pytestmark = pytest.mark.browser


async def test_a_shopper_books_and_the_owner_cancels(
    demo_server: DemoServer, new_person: NewPerson, tmp_path: Path
) -> None:
    base = demo_server.base_url
    shopper = await new_person(locale="vi-VN")
    shop = shopper.page
    await shop.goto(f"{base}/demo")
    await widget(shop, "button.bubble").click()
    await say(shop, "xin chào")
    chips = widget(shop, ".chips button")
    await expect(chips).to_have_text(["Xem sản phẩm", "Đặt lịch hẹn", "Gặp nhân viên"])
    await chips.nth(1).click()
    bot = widget(shop, ".log .msg.out")
    await expect(bot.last).to_have_text("Để giữ lịch cho bạn, shop xin số điện thoại nhé 📞")
    await say(shop, "0912 345 678")
    await expect(bot.last).to_contain_text("Bạn muốn đặt lịch dịch vụ nào?")
    await expect(chips).to_have_text(["Tư vấn phối đồ", "Sửa đồ, lên lai quần"])
    await chips.first.click()
    await expect(bot.last).to_have_text("Tư vấn phối đồ (30 phút): bạn muốn hẹn ngày nào?")
    await chips.filter(has_text=re.compile(r"^Ngày mai")).click()
    await expect(bot.last).to_contain_text("bạn chọn giờ nhé.")
    await chips.filter(has_text=re.compile(r"^10:00$")).click()
    await expect(bot.last).to_contain_text("✅ Đã đặt lịch Tư vấn phối đồ lúc 10:00, ")
    await expect(chips).to_have_text(["Lịch hẹn của tôi"])
    await shop.screenshot(path=tmp_path / "booking-widget.png")

    owner = await new_person(locale="en-US")
    admin = owner.page
    await admin.goto(f"{base}/admin/login")
    await log_in(admin, demo_server.email, demo_server.password)
    await admin.locator("header.topbar nav a", has_text="Appointments").click()
    await expect(admin).to_have_url(f"{base}/admin/appointments")
    row = admin.locator("table.bookings tr[data-booking]")
    await expect(row).to_have_count(1)
    await expect(row.locator("td.when")).to_have_text("10:00–10:30")
    await expect(row).to_contain_text("Styling session")
    await expect(row).to_contain_text("+84912345678")
    await admin.evaluate("window.__notReloaded = true")
    admin.on("dialog", lambda dialog: dialog.accept())
    await row.locator("button", has_text="Cancel").click()
    await expect(row.locator(".chip")).to_have_text("Cancelled")
    await expect(row.locator("button")).to_have_count(0)
    assert await admin.evaluate("window.__notReloaded") is True  # swapped by HTMX
    await admin.screenshot(path=tmp_path / "admin-appointments.png")

    await expect(bot.last).to_contain_text(
        "Shop rất tiếc phải huỷ lịch Tư vấn phối đồ lúc 10:00", timeout=LIVE
    )
    for name in ("booking-widget.png", "admin-appointments.png"):
        assert save_shot(tmp_path, name).stat().st_size > 0
    assert shopper.errors == [] and owner.errors == []
