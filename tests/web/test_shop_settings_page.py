"""The admin shop settings page: pay-page address, payment link, shipping rule (bad
amounts explained), and the store webhook secret — stored encrypted, never shown again,
accepted by /webhooks/store/<slug> once set, refused again once removed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html

import httpx
import orjson
from sqlalchemy import select

from chatcart.models import ShopSetting
from chatcart.runtime import Runtime
from chatcart.shop import service as shop
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server

SECRET = "wc-secret-0123456789abcdef"


def _signed(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def test_shop_settings_and_the_store_webhook_secret(runtime: Runtime) -> None:
    made = await make_shop(runtime)
    body = orjson.dumps({"number": "1001", "status": "processing"})
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}", cookies={"lang": "vi"}) as client,
    ):
        await login(client, made.email, made.password)
        orders = html.unescape((await client.get("/admin/orders")).text)
        assert 'href="/admin/shop"' in orders and "Cài đặt shop" in orders
        page = await client.get("/admin/shop")
        csrf = csrf_of(page.text)
        assert "Chưa có khoá bí mật" in html.unescape(page.text)
        assert f"/webhooks/store/{made.slug}" in page.text

        form = {"csrf_token": csrf, "public_url": "https://shop.example.com", "payment_link": "1",
                "flat": "30.000", "free_above": "500.000",
                "provinces": "Hà Nội: 20.000\nHồ Chí Minh: 25.000"}  # fmt: skip
        for wrong, message in (
            ({"flat": "ba mươi"}, "ba mươi không phải số tiền"),
            ({"provinces": "Hà Nội 20.000"}, "Ghi mỗi dòng một tỉnh"),
            ({"public_url": "shop.example.com"}, "bắt đầu bằng https://"),
        ):
            refused = await client.post("/admin/shop", data={**form, **wrong})
            assert refused.status_code == 422 and message in html.unescape(refused.text), wrong
        assert (await client.post("/admin/shop", data=form)).status_code == 303
        async with runtime.sessions() as session:
            saved = await shop.settings_of(session, made.workspace_id)
        assert saved.public_url == "https://shop.example.com" and saved.payment_link
        assert saved.shipping.model_dump() == {
            "flat": 30000, "free_above": 500000,
            "provinces": {"Hà Nội": 20000, "Hồ Chí Minh": 25000},
        }  # fmt: skip
        shown = html.unescape((await client.get("/admin/shop")).text)
        assert "Hà Nội: 20000" in shown

        hook = f"/webhooks/store/{made.slug}"
        headers = {"X-WC-Webhook-Signature": _signed(body, SECRET)}
        assert (await client.post(hook, content=body, headers=headers)).status_code == 401
        short = await client.post(
            "/admin/shop/store-secret", data={"csrf_token": csrf, "secret": "short"}
        )
        assert short.status_code == 422 and "ít nhất 16 ký tự" in html.unescape(short.text)
        assert (
            await client.post("/admin/shop/store-secret", data={"secret": SECRET})
        ).status_code == 403
        set_secret = await client.post(
            "/admin/shop/store-secret", data={"csrf_token": csrf, "secret": SECRET}
        )
        assert set_secret.status_code == 303
        page = html.unescape((await client.get("/admin/shop")).text)
        assert "Đã có khoá bí mật" in page and SECRET not in page
        async with runtime.sessions() as session:
            row = await session.scalar(select(ShopSetting))
        assert row is not None and row.store_secret_encrypted
        assert SECRET not in row.store_secret_encrypted  # encrypted at rest
        accepted = await client.post(hook, content=body, headers=headers)
        assert accepted.status_code == 200, accepted.text  # (no such order: nothing moves)
        bad = await client.post(hook, content=body, headers={"X-WC-Webhook-Signature": "x"})
        assert bad.status_code == 401
        removed = await client.post(
            "/admin/shop/store-secret", data={"csrf_token": csrf, "remove": "1"}
        )
        assert removed.status_code == 303
        assert (await client.post(hook, content=body, headers=headers)).status_code == 401
