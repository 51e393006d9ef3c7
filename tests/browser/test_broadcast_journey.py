"""A seller composes a broadcast in a real browser: live preview with the variant count and
an error marked where it is, the plan, start, and the progress bar reaching 100 % while the
worker sends to the Graph sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from chatcart.runtime import Runtime
from tests.broadcasts.world import World, sandbox_world
from tests.browser.conftest import NewPerson
from tests.browser.test_demo_journey import log_in
from tests.helpers.servers import live_server

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/chatcart-shots")


@pytest.fixture
async def world(runtime: Runtime) -> AsyncIterator[World]:
    async with sandbox_world(runtime) as w:
        yield w


async def test_composer_plan_send_progress_reaches_100(world: World, new_person: NewPerson) -> None:
    await world.add_people(25, window_hours=1)
    await world.add_people(3, window_hours=None, start=60)
    await world.segment("Khách Messenger")
    async with live_server(world.rt.settings) as host:
        person = await new_person()
        page = person.page
        await page.goto(f"http://{host}/admin/login?next=/admin/broadcasts/new")
        await log_in(page, world.shop.email, world.shop.password)
        await expect(page.locator("h1")).to_have_text("New broadcast")
        await page.locator("input[name=name]").fill("Sale 12.12")
        await page.get_by_label("Shop Áo Thun").check()
        await page.locator("select[name=segment_id]").select_option(label="Khách Messenger")
        message = page.locator("textarea[name=text]")
        await message.fill("{{Chào|Xin chào}} {{first_name}}, {{sale|giảm giá}} 12.12!")
        await expect(page.locator("#variant-count")).to_have_text("4")
        await expect(page.locator(".bc-samples li")).to_have_count(5)
        await message.fill("Chào {{first_name}}, {{sale|}} 12.12!")
        await expect(page.locator("#spin-error")).to_contain_text("empty")
        await expect(page.locator(".bc-caret mark")).to_have_count(1)
        await message.fill("{{Chào|Xin chào}} {{first_name}}, {{sale|giảm giá}} 12.12!")
        await page.locator("input[name=batch_size]").fill("10")
        await page.locator("input[name=pause_seconds]").fill("0.3")
        await page.get_by_role("button", name="Save and see the plan").click()
        await expect(page.locator("#plan-summary")).to_contain_text(
            "28 recipients: 25 reachable, 3 skipped"
        )
        await page.get_by_role("button", name="Start sending").click()
        await expect(page.locator("#progress .pct")).to_have_text("100.0 %", timeout=30_000)
        await expect(page.locator("#progress")).to_contain_text("Done")
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "broadcast-done.png"), full_page=True)
        assert person.errors == []
    accepted = world.accepted_by_user()
    assert len(accepted) == 25
    assert set(accepted.values()) == {1}
