"""The admin flow editor in a real browser: the seeded demo flows are listed, and typing a
mistake lists it with its line while you type (HTMX), before anything is saved."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DemoServer, NewPerson
from tests.browser.test_demo_journey import log_in

pytestmark = pytest.mark.browser


async def test_the_editor_checks_as_you_type(
    demo_server: DemoServer, new_person: NewPerson
) -> None:
    owner = await new_person(locale="en-US")
    page = owner.page
    await page.goto(f"{demo_server.base_url}/admin/flows")
    await log_in(page, demo_server.email, demo_server.password)
    await page.goto(f"{demo_server.base_url}/admin/flows")
    rows = page.locator("table.flows tbody tr")
    await expect(rows).to_have_count(12)  # the demo shop's flow set, published
    await expect(page.locator("tr[data-flow=order-phone] .badge")).to_have_text("Active")

    await page.locator("tr[data-flow=order-phone] a").click()
    editor = page.locator("textarea[name=source]")
    await expect(editor).to_contain_text("kind: phone")
    draft = await editor.input_value()
    await editor.fill(draft.replace("start: ask_phone", "start: ask_fone"))
    problems = page.locator("#flow-errors li")
    await expect(problems).to_have_count(1)
    line = next(n for n, text in enumerate(draft.splitlines(), 1) if text.startswith("start:"))
    await expect(problems.first).to_contain_text(f"line {line}")
    await expect(problems.first).to_contain_text("no step 'ask_fone'")

    await editor.fill(draft)
    await expect(page.locator("#flow-errors .ok")).to_be_visible()
    await page.locator("button[name=publish]").click()
    await expect(page).to_have_url(f"{demo_server.base_url}/admin/flows/order-phone")
    assert owner.errors == []
