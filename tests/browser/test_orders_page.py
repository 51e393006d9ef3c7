"""The admin orders pages in a real browser, on the seeded demo shop: the list, one order,
confirming, packing and shipping it with a tracking code."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DemoServer, NewPerson
from tests.browser.test_demo_journey import log_in, save_shot

pytestmark = pytest.mark.browser


async def test_confirm_pack_and_ship_an_order(
    demo_server: DemoServer, new_person: NewPerson, tmp_path: Path
) -> None:
    owner = await new_person(locale="vi-VN")
    page = owner.page
    await page.goto(f"{demo_server.base_url}/admin/orders")
    await log_in(page, demo_server.email, demo_server.password)
    await page.wait_for_url("**/admin/orders")
    rows = page.locator("table.orders tbody tr[data-order]")
    await expect(rows).to_have_count(4)
    await page.locator("select[name=status]").select_option("pending")
    await expect(rows).to_have_count(1)
    await rows.first.locator("a").click()
    await page.wait_for_url("**/admin/orders/*")
    status = page.locator("#order-status")
    await expect(status).to_have_text("Chờ xác nhận")
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(status).to_have_text("Đã xác nhận")
    await page.get_by_role("button", name="Đã đóng gói").click()
    await expect(status).to_have_text("Đã đóng gói")
    await page.locator("input[name=tracking_code]").fill("GHN0001")
    await page.locator("input[name=note]").fill("Giao buổi sáng")
    await page.get_by_role("button", name="Đã giao cho vận chuyển").click()
    await expect(status).to_have_text("Đang giao")
    await expect(page.locator("dl.facts").last).to_contain_text("GHN0001")
    history = page.locator("ol.history li")
    await expect(history).to_have_count(4)
    await expect(history.last).to_contain_text("Giao buổi sáng")
    # A shipped order can no longer be cancelled: only delivered or returned are offered.
    names = await page.locator(".status-buttons button").all_inner_texts()
    assert names == ["Đã giao thành công", "Khách trả hàng"]
    await page.screenshot(path=tmp_path / "order.png", full_page=True)
    save_shot(tmp_path, "order.png")
    assert owner.errors == []
