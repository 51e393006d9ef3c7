"""A customer chatting through the widget channel, message by message, through the real
inbound path (recorded event -> worker -> engine -> outbox)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from chatcart.catalog import service as catalog
from chatcart.catalog.schemas import ProductIn, VariantIn
from chatcart.channels import service as channels
from chatcart.channels.base import MessageContent
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import Message
from chatcart.runtime import Runtime
from chatcart.worker.loops import Worker
from tests.helpers.factory import Shop


class Customer:
    def __init__(self, runtime: Runtime, shop: Shop, visitor: str = "v1") -> None:
        self.runtime, self.shop, self.visitor = runtime, shop, visitor
        self.worker = Worker(runtime, worker_id="w1")
        self.count = 0

    async def say(self, text: str, payload: str | None = None) -> list[MessageContent]:
        """The bot's replies to one message or tap."""
        self.count += 1
        body = {
            "visitor_id": self.visitor,
            "client_id": f"{self.visitor}-c{self.count}",
            "text": text,
            "payload": payload,
            "sent_at": utcnow().isoformat(),
        }
        async with self.runtime.sessions() as session:
            before = int(await session.scalar(select(func.max(Message.id))) or 0)
        async with transaction(self.runtime.sessions) as session:
            account = await channels.get_account(session, self.shop.widget_account_id)
            await channels.record_inbound(
                session,
                account,
                external_id=f"{self.visitor}-ev{self.count}",
                body=json.dumps(body).encode(),
                sender_external_id=self.visitor,
            )
        assert await self.worker.inbound_once() == 1
        async with self.runtime.sessions() as session:
            rows = await session.scalars(
                select(Message.content)
                .where(Message.id > before, Message.sender == "bot")
                .order_by(Message.id)
            )
            return [MessageContent.model_validate(c) for c in rows.all()]

    async def tap(self, payload: str, title: str = "") -> list[MessageContent]:
        return await self.say(title, payload=payload)


async def add_tee(
    runtime: Runtime, workspace_id: int, *, stock: int | None = 5, price: int = 150000
) -> dict[str, Any]:
    """Áo thun basic in S and M, and an Áo polo of the same category (recommendations)."""
    async with transaction(runtime.sessions) as session:
        saved = await catalog.save_product(
            session,
            workspace_id,
            ProductIn(
                name="Áo thun basic",
                currency="VND",
                option_names=["Size"],
                categories=["Áo"],
                variants=[
                    VariantIn(sku="TEE-S", option_values=["S"], price=price, stock=stock),
                    VariantIn(sku="TEE-M", option_values=["M"], price=price, stock=stock),
                ],
            ),
        )
        polo = (
            await catalog.save_product(
                session,
                workspace_id,
                ProductIn(
                    name="Áo polo",
                    currency="VND",
                    categories=["Áo"],
                    variants=[VariantIn(sku="POLO", price=250000, stock=3)],
                ),
            )
        ).product
        product = saved.product
    return {
        "id": product.id,
        "variants": {v.option_values[0]: v.id for v in product.variants},
        "polo": polo.id,
    }
