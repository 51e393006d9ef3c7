"""/api/v1/products, /categories and /orders over HTTP: bearer token, workspace scope."""

from __future__ import annotations

import httpx

from chatcart.kit.db import transaction
from chatcart.orders import service as orders
from chatcart.orders.schemas import Checkout, CheckoutLine
from chatcart.runtime import Runtime
from tests.catalog.helpers import save, tee
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server


async def test_products_categories_and_orders_read_through_the_api(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    product = await save(runtime, shop.workspace_id, tee())
    theirs = await save(runtime, other.workspace_id, tee())
    async with transaction(runtime.sessions) as session:
        order = await orders.place_order(
            session,
            shop.workspace_id,
            Checkout(
                lines=[CheckoutLine(variant_id=product.variants[0].id, quantity=2)],
                customer_name="Trần Thị Lan",
                phone="0912345678",
                address="12 Lê Lợi, Quận 1",
            ),
        )
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(
            base_url=f"http://{host}/api/v1",
            headers={"Authorization": f"Bearer {shop.api_token}"},
        ) as client,
    ):
        found = (await client.get("/products", params={"q": "ao thun"})).json()
        assert [p["name"] for p in found] == ["Áo thun cotton basic"]
        assert (found[0]["min_price"], found[0]["stock"]) == (150000, 1)  # 3 - the 2 ordered
        one = (await client.get(f"/products/{product.id}")).json()
        assert [v["sku"] for v in one["variants"]] == ["AT-M-DO", "AT-L-DO", "AT-M-DEN"]
        assert (await client.get(f"/products/{theirs.id}")).status_code == 404
        categories = (await client.get("/categories")).json()
        assert [c["path"] for c in categories] == ["Thời trang nữ", "Thời trang nữ > Áo thun"]
        listed = (await client.get("/orders", params={"status": "pending"})).json()
        assert [(o["number"], o["total"]) for o in listed] == [(1001, 300000)]
        detail = (await client.get(f"/orders/{order.id}")).json()
        assert detail["phone"] == "+84912345678" and detail["events"][0]["to_status"] == "pending"
        bad = await client.get("/orders", params={"status": "lost"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
        anonymous = await client.get("/products", headers={"Authorization": ""})
        assert anonymous.status_code == 401
