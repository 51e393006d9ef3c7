"""The admin orders pages: list with search and status filter, one order, status changes
(CSRF, refused moves explained, another shop's orders unseen)."""

from __future__ import annotations

import html

import httpx

from chatcart.kit.db import transaction
from chatcart.orders import service as orders
from chatcart.orders.schemas import Checkout, CheckoutLine
from chatcart.runtime import Runtime
from tests.catalog.helpers import save, tee
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server


async def _order(runtime: Runtime, workspace_id: int, variant_id: int, name: str) -> int:
    async with transaction(runtime.sessions) as session:
        order = await orders.place_order(
            session,
            workspace_id,
            Checkout(
                lines=[CheckoutLine(variant_id=variant_id, quantity=1)],
                customer_name=name,
                phone="0912345678",
                address="12 Lê Lợi, Quận 1",
            ),
        )
    return order.id


async def test_list_view_and_move_an_order(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    product = await save(runtime, shop.workspace_id, tee())
    theirs = await save(runtime, other.workspace_id, tee())
    lan = await _order(runtime, shop.workspace_id, product.variants[0].id, "Trần Thị Lan")
    await _order(runtime, shop.workspace_id, product.variants[2].id, "Nguyễn Văn Bình")
    foreign = await _order(runtime, other.workspace_id, theirs.variants[0].id, "Khách khác")
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}", cookies={"lang": "vi"}) as client,
    ):
        await login(client, shop.email, shop.password)
        listing = html.unescape((await client.get("/admin/orders")).text)
        assert "#1001" in listing and "#1002" in listing and "Khách khác" not in listing
        assert "Chờ xác nhận" in listing and "150.000\xa0₫" in listing
        found = html.unescape((await client.get("/admin/orders", params={"q": "1002"})).text)
        assert "Nguyễn Văn Bình" in found and "Trần Thị Lan" not in found
        assert (await client.get(f"/admin/orders/{foreign}")).status_code == 404
        page = await client.get(f"/admin/orders/{lan}")
        csrf = csrf_of(page.text)
        assert "Xác nhận" in html.unescape(page.text)
        refused = await client.post(f"/admin/orders/{lan}/status", data={"to": "confirmed"})
        assert refused.status_code == 403
        wrong = await client.post(
            f"/admin/orders/{lan}/status", data={"csrf_token": csrf, "to": "shipped"}
        )
        assert wrong.status_code == 409
        assert "it can become confirmed, cancelled, not shipped" in html.unescape(wrong.text)
        for to in ("confirmed", "packed"):
            moved = await client.post(
                f"/admin/orders/{lan}/status", data={"csrf_token": csrf, "to": to}
            )
            assert moved.status_code == 303
        shipped = await client.post(
            f"/admin/orders/{lan}/status",
            data={"csrf_token": csrf, "to": "shipped", "tracking_code": "GHN123", "note": "GHN"},
        )
        assert shipped.status_code == 303
        page_text = html.unescape((await client.get(f"/admin/orders/{lan}")).text)
        assert "Đang giao" in page_text and "GHN123" in page_text
        assert page_text.count("owner@shop.test") == 3 + 1  # three changes + the header
        shipped_list = html.unescape(
            (await client.get("/admin/orders", params={"status": "shipped"})).text
        )
        assert "Trần Thị Lan" in shipped_list and "Nguyễn Văn Bình" not in shipped_list
