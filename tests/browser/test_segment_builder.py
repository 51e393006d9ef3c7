"""The segment builder in Chromium: adding conditions changes the live count (HTMX,
debounced), and the saved segment opens again with its conditions."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from chatcart.contacts import service as contacts
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.browser.conftest import NewPerson
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.web.test_contacts_page import add

pytestmark = pytest.mark.browser
LIVE = 10_000  # ms


async def test_build_a_segment_and_watch_the_count(runtime: Runtime, new_person: NewPerson) -> None:
    shop = await make_shop(runtime)
    ws, account = shop.workspace_id, shop.widget_account_id
    lan = await add(runtime, ws, account, 1, "Trần Thị Lan", "0912345678")
    binh = await add(runtime, ws, account, 2, "Nguyễn Văn Bình", "hỏi giá")  # no phone
    await add(runtime, ws, account, 3, "Lê Thu", "0987654321")
    async with transaction(runtime.sessions) as session:
        await contacts.tag(session, ws, [lan, binh], ["Khách VIP"])
    async with live_server(runtime.settings, run_worker=False) as host:
        person = await new_person()
        page = person.page
        await page.goto(f"http://{host}/admin/login?next=/admin/segments/new")
        await page.locator("input[name=email]").fill(shop.email)
        await page.locator("input[name=password]").fill(shop.password)
        await page.locator("main button[type=submit]").click()
        await page.wait_for_url(re.compile(r"/admin/segments/new$"))
        count = page.locator("#segment-count")
        await expect(count).to_have_attribute("data-count", "3", timeout=LIVE)

        await page.locator("#segment-builder .add-condition").select_option("tags")
        tag = page.locator("#segment-builder .tag-input")
        await tag.fill("khach vip")  # folded: matches "Khách VIP"
        await tag.press("Enter")
        await expect(count).to_have_attribute("data-count", "2", timeout=LIVE)
        await expect(page.locator("#segment-preview")).to_contain_text("Nguyễn Văn Bình")

        await page.locator("#segment-builder .add-condition").first.select_option("has_phone")
        await expect(count).to_have_attribute("data-count", "1", timeout=LIVE)
        await expect(page.locator("#segment-preview")).not_to_contain_text("Nguyễn Văn Bình")

        await page.locator("input[name=name]").fill("VIP có số")
        await page.locator("#segment-form button[type=submit]").click()
        await page.wait_for_url(re.compile(r"/admin/segments/\d+$"))
        await expect(page.locator("#segment-builder .condition")).to_have_count(2)
        await expect(count).to_have_attribute("data-count", "1", timeout=LIVE)
        assert person.errors == []
