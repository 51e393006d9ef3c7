"""The flow editor's simulator and graph in a real browser: open the demo's order-phone
flow, put a choice before the phone question in the draft (the graph redraws), then chat
with the draft: trigger it, tap the quick reply, answer "0912 345 678" and see the bot's
thanks and +84912345678 in the variables and the step log. Nothing is saved."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DemoServer, NewPerson
from tests.browser.test_demo_journey import log_in

pytestmark = pytest.mark.browser

CONFIRM = """\
steps:
  confirm:
    type: ask
    kind: choice
    question: Đặt hàng ngay nhé?
    choices:
    - title: Đặt ngay
      value: 'yes'
      next: ask_phone
"""


async def test_the_simulator_chats_with_the_draft(
    demo_server: DemoServer, new_person: NewPerson
) -> None:
    owner = await new_person(locale="en-US")
    page = owner.page
    await page.goto(f"{demo_server.base_url}/admin/flows")
    await log_in(page, demo_server.email, demo_server.password)
    await page.goto(f"{demo_server.base_url}/admin/flows/order-phone")
    await expect(page.locator("#flow-graph g[data-node='order-phone/ask_phone']")).to_be_visible()

    editor = page.locator("textarea[name=source]")
    draft = await editor.input_value()
    assert "start: ask_phone" in draft and "\nsteps:\n" in draft
    edited = draft.replace("start: ask_phone", "start: confirm").replace("steps:\n", CONFIRM, 1)
    await editor.fill(edited)
    await expect(page.locator("#flow-errors .ok")).to_be_visible()
    confirm = page.locator("#flow-graph g[data-node='order-phone/confirm']")
    await expect(confirm).to_be_visible()  # the graph was redrawn from the draft
    await expect(page.locator("#flow-graph g.edge-choice")).to_have_count(1)

    simulator = page.locator("#flow-simulator")
    message = simulator.locator("input[name=text]")
    await message.fill("đặt hàng")
    await message.press("Enter")
    await expect(simulator.locator(".bubble.bot").last).to_contain_text("Đặt hàng ngay nhé?")
    await simulator.locator(".bubble.bot .chip", has_text="Đặt ngay").click()
    await expect(simulator.locator(".bubble.user").last).to_have_text("Đặt ngay")
    await expect(simulator.locator(".bubble.bot").last).to_contain_text("số điện thoại")

    await simulator.locator("input[name=text]").fill("0912 345 678")
    await simulator.get_by_role("button", name="Send").click()
    await expect(simulator.locator(".bubble.bot").last).to_contain_text("+84912345678")
    await expect(simulator.locator("dd[data-field=phone]")).to_have_text("+84912345678")
    log = simulator.locator(".sim-log")
    await expect(log).to_contain_text("order-phone/confirm")
    await expect(log).to_contain_text("field set: phone = +84912345678")
    await expect(log).to_contain_text("tag added: Khách đặt hàng")

    await simulator.get_by_role("button", name="Restart").click()
    await expect(simulator.locator(".bubble")).to_have_count(0)
    await page.goto(f"{demo_server.base_url}/admin/flows/order-phone")  # nothing was saved
    await expect(page.locator("textarea[name=source]")).not_to_contain_text("confirm")
    assert owner.errors == []
