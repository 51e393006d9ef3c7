"""The sandbox payment provider's pay page and signed callback (a bad signature is 401 and
logged), and signed WooCommerce / Shopify order webhooks moving our order along."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re

import httpx
import pytest
from sqlalchemy import select

from chatcart.kit.db import transaction
from chatcart.models import Order, OutboundMessage, Payment
from chatcart.runtime import Runtime
from chatcart.shop import service as shop
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.shop.chat import Customer, add_tee


async def _order_by_link(runtime: Runtime, public_url: str) -> tuple[Customer, str]:
    shop_ = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        await shop.save_settings(session, shop_.workspace_id, public_url=public_url)
    tee = await add_tee(runtime, shop_.workspace_id)
    customer = Customer(runtime, shop_)
    await customer.tap(f"SHOP:Q:{tee['variants']['M']}:1")
    await customer.tap("SHOP:CHECKOUT")
    await customer.say("Nguyễn Văn An")
    await customer.say("0912345678")
    [payment_question] = await customer.say("12 Lê Lợi, Quận 1, TP Hồ Chí Minh")
    assert [q.payload for q in payment_question.quick_replies] == ["SHOP:PAY:cod", "SHOP:PAY:link"]
    await customer.tap("SHOP:PAY:link")
    placed, pay, *_ = await customer.tap("SHOP:CONFIRM")
    assert placed.text.startswith("Cảm ơn bạn! Shop đã nhận đơn #1001")
    assert pay.text == "Bạn thanh toán 180.000\xa0₫ cho đơn #1001 tại đây:"  # + 30.000 shipping
    link = pay.buttons[0].url
    assert link is not None and link.startswith(public_url + "/pay/")
    return customer, link


async def test_pay_page_and_a_signed_callback_mark_the_order_paid(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    async with live_server(runtime.settings, run_worker=False) as host:
        _, link = await _order_by_link(runtime, f"http://{host}")
        async with httpx.AsyncClient() as client:
            page = await client.get(link)
            assert page.status_code == 200 and "180.000" in page.text
            forms = re.findall(r"<form.*?</form>", page.text)
            fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', forms[0]))
            assert fields["status"] == "paid"

            forged = {**fields, "amount": "1"}
            with caplog.at_level(logging.WARNING):
                bad = await client.post(f"http://{host}/payments/sandbox/callback", data=forged)
            assert bad.status_code == 401
            assert "bad signature rejected" in caplog.text
            async with runtime.sessions() as session:
                order = await session.scalar(select(Order))
                assert order is not None and order.payment_status == "unpaid"

            good = await client.post(f"http://{host}/payments/sandbox/callback", data=fields)
            assert good.status_code == 200
    async with runtime.sessions() as session:
        order = await session.scalar(select(Order))
        assert order is not None
        assert (order.payment_status, order.reserved_until) == ("paid", None)
        payment = await session.scalar(select(Payment))
        assert payment is not None and payment.status == "paid"
        told = await session.scalar(
            select(OutboundMessage).where(
                OutboundMessage.idempotency_key == f"order:{order.id}:paid"
            )
        )
        assert told is not None and told.content["text"].startswith("Shop đã nhận 180.000")


def _signed(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def test_store_webhooks_are_checked_and_move_the_order(runtime: Runtime) -> None:
    async with live_server(runtime.settings, run_worker=False) as host:
        customer, _ = await _order_by_link(runtime, f"http://{host}")
        async with transaction(runtime.sessions) as session:
            await shop.set_store_secret(session, runtime.secrets, customer.shop.workspace_id, "s3")
        url = f"http://{host}/webhooks/store/{customer.shop.slug}"
        woo = json.dumps({"id": 77, "number": "1001", "status": "processing"}).encode()
        async with httpx.AsyncClient() as client:
            bad = await client.post(url, content=woo, headers={"X-WC-Webhook-Signature": "nope"})
            assert bad.status_code == 401
            ok = await client.post(
                url, content=woo, headers={"X-WC-Webhook-Signature": _signed("s3", woo)}
            )
            assert ok.json() == {"status": "moved"}
            packed = json.dumps({"order_number": 1001, "fulfillment_status": None}).encode()
            same = await client.post(
                url, content=packed, headers={"X-Shopify-Hmac-Sha256": _signed("s3", packed)}
            )
            assert same.json() == {"status": "ignored_status"}
    async with runtime.sessions() as session:
        order = await session.scalar(select(Order))
        assert order is not None and order.status == "confirmed"
        told = await session.scalar(
            select(OutboundMessage).where(
                OutboundMessage.idempotency_key == f"order:{order.id}:confirmed"
            )
        )
        assert told is not None and told.content["text"] == "Đơn #1001: đã xác nhận."
