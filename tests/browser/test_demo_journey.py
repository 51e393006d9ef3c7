"""The demo journey in a real browser: a shopper chats through the widget on /demo, the
shop owner logs into the admin and watches the conversation update live (SSE + HTMX)."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from chatcart.web.i18n import translations
from tests.browser.conftest import DemoServer, NewPerson

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/chatcart-shots")
LIVE = 15_000  # ms: a live update crosses the WebSocket, the worker, the bus and SSE

# Counts htmx's SSE connections, so a test can wait until the admin page listens.
SSE_PROBE = """
window.__sseOpen = 0;
document.addEventListener("htmx:sseOpen", () => { window.__sseOpen += 1; });
"""

WIDGET_STORE = """
() => {
  const key = document.querySelector("script[data-chatcart-key]").dataset.chatcartKey;
  const get = (name) => JSON.parse(localStorage.getItem(`chatcart:${key}:${name}`));
  return { token: get("token"), pending: get("pending"), open: get("open") };
}
"""


def widget(page: Page, selector: str) -> Locator:
    # Playwright's CSS engine pierces the widget's open shadow root.
    return page.locator(f"#chatcart-widget {selector}")


async def say(page: Page, text: str) -> None:
    box = widget(page, "textarea")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")


async def log_in(page: Page, email: str, password: str) -> None:
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(password)
    await page.locator("main button[type=submit]").click()


def save_shot(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)
    return path


async def test_shopper_chats_and_the_owner_watches_live(
    demo_server: DemoServer, new_person: NewPerson, tmp_path: Path
) -> None:
    base = demo_server.base_url

    # --- The shopper opens the demo shop and says hello through the widget.
    shopper = await new_person(locale="vi-VN")
    shop = shopper.page
    await shop.goto(f"{base}/demo")
    await expect(shop).to_have_title("Demo Shop")
    await expect(shop.locator("header.shop-head strong")).to_have_text("Demo Shop")
    bubble = widget(shop, "button.bubble")
    panel = widget(shop, ".panel")
    await expect(bubble).to_be_visible()
    await expect(panel).to_be_hidden()

    # The bubble sits in the bottom-right corner (20px from both edges).
    viewport = shop.viewport_size
    assert viewport is not None
    box = await bubble.bounding_box()
    assert box is not None
    assert abs(viewport["width"] - (box["x"] + box["width"]) - 20) <= 2, box
    assert abs(viewport["height"] - (box["y"] + box["height"]) - 20) <= 2, box

    await bubble.click()
    await expect(panel).to_be_visible()
    await expect(widget(shop, ".title")).to_have_text("Chat với shop")
    await expect(widget(shop, ".status")).to_be_hidden()  # connected
    await expect(widget(shop, "textarea")).to_be_focused()
    await say(shop, "xin chào")

    visitor_msgs = widget(shop, ".log .msg.in")
    bot_msgs = widget(shop, ".log .msg.out")
    await expect(visitor_msgs).to_have_text(["xin chào"])
    await expect(visitor_msgs.first).not_to_have_class(re.compile(r"\bpending\b"))  # acked
    await expect(bot_msgs).to_have_count(1)
    await expect(bot_msgs.first).to_contain_text("Xin chào")
    await expect(bot_msgs.first).to_contain_text("Demo Shop")
    await expect(widget(shop, ".chips button")).to_have_text(
        ["Xem sản phẩm", "Đặt lịch hẹn", "Gặp nhân viên"]
    )
    greeting = (await bot_msgs.first.text_content()) or ""

    # --- A reload keeps the transcript (once) and the visitor token.
    before = await shop.evaluate(WIDGET_STORE)
    assert before["token"], before
    assert before["pending"] == [], before
    assert before["open"] is True, before
    await shop.reload()
    await expect(panel).to_be_visible()  # it was open: it stays open
    await expect(widget(shop, ".status")).to_be_hidden()
    await expect(bot_msgs).to_have_text([greeting])
    await expect(visitor_msgs).to_have_text(["xin chào"])
    await expect(widget(shop, ".log .msg")).to_have_count(2)
    after = await shop.evaluate(WIDGET_STORE)
    assert after["token"] == before["token"]
    assert after["pending"] == []

    # --- The owner, in another browser context: a wrong password first.
    owner = await new_person(locale="en-US")
    admin = owner.page
    await admin.add_init_script(SSE_PROBE)
    await admin.goto(f"{base}/admin")
    await expect(admin).to_have_url(re.compile(r"/admin/login\b"))
    await log_in(admin, demo_server.email, demo_server.password + "-wrong")
    await expect(admin.locator(".error[role=alert]")).to_have_text(
        "Email or password is incorrect."
    )
    await expect(admin).to_have_url(re.compile(r"/admin/login\b"))
    await expect(admin.locator("input[name=email]")).to_have_value(demo_server.email)
    await expect(admin.locator("a.conv")).to_have_count(0)

    await log_in(admin, demo_server.email, demo_server.password)
    await expect(admin).to_have_url(f"{base}/admin/conversations")
    await expect(admin.locator("header.topbar .workspace")).to_have_text("Demo Shop")
    rows = admin.locator("a.conv")
    await expect(rows).to_have_count(1)
    await expect(rows.locator(".preview")).to_have_text(greeting)

    await rows.first.click()
    await expect(admin).to_have_url(re.compile(rf"^{re.escape(base)}/admin/conversations/\d+$"))
    thread = admin.locator("#messages")
    await expect(thread.locator(".msg.in .text")).to_have_text(["xin chào"])
    await expect(thread.locator(".msg.out .text")).to_have_text([greeting])
    await expect(thread.locator(".msg.out .chip")).to_have_text(
        ["Xem sản phẩm", "Đặt lịch hẹn", "Gặp nhân viên"]
    )
    await expect(thread.locator(".msg.out .status")).to_have_text(["sent"])
    await expect(admin.locator("a.conv.current")).to_have_count(1)

    # --- Live: the owner keeps the page open while the shopper writes again.
    await admin.wait_for_function("window.__sseOpen > 0")
    await admin.evaluate("window.__notReloaded = true")
    await say(shop, "còn áo size M không?")
    await expect(visitor_msgs).to_have_text(["xin chào", "còn áo size M không?"])
    await expect(bot_msgs).to_have_count(2)
    # A carousel: the widget shows its text, then its cards with a "Chọn" button each.
    answer = await bot_msgs.nth(1).evaluate("e => e.firstChild.textContent")
    assert answer == "Shop có mấy mẫu này:"
    cards = bot_msgs.nth(1).locator(".card")
    assert await cards.count() >= 1
    await expect(cards.first.locator("button.btn")).to_have_text("Chọn")

    await expect(thread.locator(".msg.in .text")).to_have_text(
        ["xin chào", "còn áo size M không?"], timeout=LIVE
    )
    # The inbox shows the carousel's text.
    shown = answer
    await expect(thread.locator(".msg.out .text")).to_have_text([greeting, shown], timeout=LIVE)
    await expect(widget(shop, ".log .msg")).to_have_count(4)
    await expect(widget(shop, ".chips button")).to_have_count(0)  # the answer offers none

    # The page must settle on the latest state: htmx re-fetches on SSE events and the last
    # event has to win (the reply's delivery status; the list's preview of the last message).
    settled = await asyncio.gather(
        expect(thread.locator(".msg.out .status")).to_have_text(["sent", "sent"], timeout=LIVE),
        expect(rows.locator(".preview")).to_have_text(shown, timeout=LIVE),
        return_exceptions=True,
    )

    # --- Screenshots for people to look at (taken even when the page did not settle).
    await shop.screenshot(path=tmp_path / "demo-widget.png")
    await admin.screenshot(path=tmp_path / "admin-conversation.png")
    for name in ("demo-widget.png", "admin-conversation.png"):
        assert save_shot(tmp_path, name).stat().st_size > 0

    failures = [str(outcome) for outcome in settled if isinstance(outcome, BaseException)]
    if failures:
        pytest.fail("the admin page did not settle on the latest state:\n" + "\n".join(failures))
    assert await admin.evaluate("window.__notReloaded") is True
    assert shopper.errors == []
    assert owner.errors == []


async def test_admin_switches_language(
    demo_server: DemoServer, new_person: NewPerson, tmp_path: Path
) -> None:
    base = demo_server.base_url
    owner = await new_person(locale="en-US")
    admin = owner.page
    await admin.goto(f"{base}/admin/login")
    await log_in(admin, demo_server.email, demo_server.password)
    await expect(admin).to_have_url(f"{base}/admin/conversations")

    nav = admin.locator("header.topbar nav a[href='/admin/conversations']")
    html = admin.locator("html")

    async def lang_cookie() -> str | None:
        cookies = await owner.context.cookies(base)
        return next((c["value"] for c in cookies if c["name"] == "lang"), None)

    # English from the browser's Accept-Language; no cookie yet.
    await expect(html).to_have_attribute("lang", "en")
    await expect(nav).to_have_text("Conversations")
    await expect(admin.locator("a.lang.active")).to_have_text("EN")
    assert await lang_cookie() is None

    # VI: the cookie is set and the page comes back on the same path, in Vietnamese.
    await admin.locator("a.lang[hreflang=vi]").click()
    await expect(html).to_have_attribute("lang", "vi")
    await expect(admin).to_have_url(f"{base}/admin/conversations")
    await expect(admin.locator("a.lang.active")).to_have_text("VI")
    assert await lang_cookie() == "vi"
    vietnamese = translations("vi").gettext("Conversations")
    if vietnamese != "Conversations":  # the vi catalog exists and translates the label
        await expect(nav).to_have_text(vietnamese)
        await expect(admin).to_have_title(re.compile(rf"^{re.escape(vietnamese)} · chatcart$"))
    await admin.screenshot(path=tmp_path / "admin-vi.png")
    save_shot(tmp_path, "admin-vi.png")

    # And back to EN.
    await admin.locator("a.lang[hreflang=en]").click()
    await expect(html).to_have_attribute("lang", "en")
    await expect(admin).to_have_url(f"{base}/admin/conversations")
    await expect(nav).to_have_text("Conversations")
    await expect(admin).to_have_title("Conversations · chatcart")
    assert await lang_cookie() == "en"
    assert owner.errors == []
