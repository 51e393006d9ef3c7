"""Browser fixtures: Debian's Chromium driven by Playwright, and a seeded demo server.

Playwright's own browser downloads are never used (`playwright install` is not run):
the tests drive /usr/bin/chromium, which `make test` installs with apt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from chatcart.demo import seed
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.helpers.servers import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class DemoServer:
    base_url: str
    email: str
    password: str


@dataclass
class Person:
    """One browser context (a separate person: own cookies, own localStorage) and its page.
    Uncaught page errors are collected so a test can assert the page's scripts ran cleanly."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)


NewPerson = Callable[..., Awaitable[Person]]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing. The browser tests drive Debian's Chromium "
            "(never `playwright install`); `make test` installs it "
            "(apt-get install chromium), or run `make chromium`.",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def new_person(browser: Browser) -> AsyncIterator[NewPerson]:
    """Factory: a fresh browser context with one page; all closed at teardown."""
    contexts: list[BrowserContext] = []

    async def make(locale: str = "en-US") -> Person:
        context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = await context.new_page()
        person = Person(context, page)
        page.on("pageerror", lambda exc: person.errors.append(str(exc)))
        return person

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
async def demo_server(runtime: Runtime, tmp_path: Path) -> AsyncIterator[DemoServer]:
    """The "Demo Shop" workspace seeded, and a real `chatcart serve` (web + worker) on it."""
    async with transaction(runtime.sessions) as session:
        login = await seed(session, runtime.secrets, runtime.settings)
    assert login.created and login.password
    log = tmp_path / "server.log"
    server = ServerProcess(runtime.settings, worker=True, log=log).start()
    try:
        yield DemoServer(server.base_url, login.email, login.password)
    finally:
        server.stop()
        # Shown by pytest only when the test fails.
        print(f"--- server log ({log}) ---\n{log.read_text(errors='replace')[-6000:]}")
