"""The admin contact list: accent-insensitive search, segment filter, sort, bulk tagging."""

from __future__ import annotations

import html

import httpx

from chatcart.contacts import service as contacts
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import find_points
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server


async def add(
    runtime: Runtime, workspace_id: int, account_id: int, n: int, name: str, phone: str
) -> int:
    async with transaction(runtime.sessions) as session:
        person = await contacts.resolve(
            session, workspace_id=workspace_id, channel_account_id=account_id,
            external_id=f"v{n}", profile={"name": name}, source=None, seen_at=utcnow(),
        )  # fmt: skip
        await contacts.add_points(
            session, workspace_id, person.contact_id, find_points(phone, "VN"),
            source="message", at=utcnow(),
        )  # fmt: skip
    return person.contact_id


async def test_search_sort_and_bulk_tag(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    lan = await add(
        runtime, shop.workspace_id, shop.widget_account_id, 1, "Trần Thị Lan", "0912345678"
    )
    binh = await add(
        runtime, shop.workspace_id, shop.widget_account_id, 2, "Nguyễn Văn Bình", "0987654321"
    )
    other = await make_shop(runtime, slug="other", name="Other")
    await add(
        runtime, other.workspace_id, other.widget_account_id, 3, "Trần Lan Khác", "0911111111"
    )
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        await login(client, shop.email, shop.password)
        page = await client.get("/admin/contacts", params={"q": "tran lan"})
        text = html.unescape(page.text)
        assert page.status_code == 200
        assert "Trần Thị Lan" in text and "Nguyễn Văn Bình" not in text
        assert "Trần Lan Khác" not in text  # another workspace's contact
        by_phone = html.unescape(
            (await client.get("/admin/contacts", params={"q": "0987 654 321"})).text
        )
        assert "Nguyễn Văn Bình" in by_phone and "Trần Thị Lan" not in by_phone
        rows = html.unescape((await client.get("/admin/contacts", params={"sort": "name"})).text)
        assert rows.index("Nguyễn Văn Bình") < rows.index("Trần Thị Lan")

        tagged = await client.post(
            "/admin/contacts/tags",
            data={"tag": "Khách VIP", "action": "add", "contact_ids": [str(lan), str(binh)],
                  "csrf_token": csrf_of(page.text)},
        )  # fmt: skip
        assert tagged.status_code == 303
        refused = await client.post(
            "/admin/contacts/tags", data={"tag": "x", "contact_ids": [str(lan)]}
        )
        assert refused.status_code == 403
        fragment = html.unescape(
            (await client.get("/admin/contacts", headers={"HX-Request": "true"})).text
        )
        assert fragment.count("Khách VIP") == 2
        assert "<html" not in fragment  # HTMX gets the rows only
    async with runtime.sessions() as session:
        assert await contacts.tags_of(session, lan) == ["Khách VIP"]
        assert await contacts.tags_of(session, binh) == ["Khách VIP"]
