"""Every page of the seeded demo's admin that a link reaches answers, in both languages:
a crawl from /admin following each same-site link (no 5xx, no dead link)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
import pytest

from chatcart import demo
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.helpers.admin import login
from tests.helpers.servers import free_port, live_server

_HREF = re.compile(r'href="([^"#][^"]*)"')
# Links that act (log out) or leave the admin's pages for files and feeds.
_SKIP = re.compile(
    r"/logout|/static/|\.(csv|svg|png|jpe?g|webp|js|css)(\?|$)|/export|/stream|/events"
)
_LIMIT = 400


@pytest.fixture
async def admin(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    settings = runtime.settings.model_copy(
        update={"sandbox": True, "base_url": f"http://127.0.0.1:{port}"}
    )
    async with transaction(runtime.sessions) as session:
        seeded = await demo.seed(session, runtime.secrets, settings)
    assert seeded.password is not None
    async with (
        live_server(settings, port=port) as host,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=30) as client,
    ):
        await login(client, seeded.email, seeded.password)
        yield client


def _links(page_url: str, html: str) -> set[str]:
    found = set()
    for raw in _HREF.findall(html):
        url = urldefrag(urljoin(page_url, raw.replace("&amp;", "&")))[0]
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc != urlsplit(page_url).netloc:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith("/admin") and not _SKIP.search(path):
            found.add(path)
    return found


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_every_linked_admin_page_answers(admin: httpx.AsyncClient, language: str) -> None:
    admin.cookies.set("lang", language)
    seen: dict[str, int] = {}
    queue = ["/admin"]
    base = str(admin.base_url).rstrip("/")
    while queue and len(seen) < _LIMIT:
        path = queue.pop(0)
        if path in seen:
            continue
        response = await admin.get(path, follow_redirects=True)
        seen[path] = response.status_code
        if response.status_code == 200 and "text/html" in response.headers.get("content-type", ""):
            queue.extend(sorted(_links(base + path, response.text) - seen.keys()))
    broken = {path: status for path, status in seen.items() if status >= 400}
    assert not broken, broken
    # The crawl reached the rooms a seller works in, not just the front page.
    for room in (
        "/admin/conversations",
        "/admin/contacts",
        "/admin/flows",
        "/admin/catalog",
        "/admin/orders",
    ):
        assert any(path.startswith(room) for path in seen), (room, sorted(seen))
    assert len(seen) > 30
