"""A shop with a Messenger Page on the strict Graph sandbox and many contacts, for broadcast
tests: contacts are written in bulk (core inserts), the sandbox knows the same people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from chatcart.broadcasts import service as broadcasts
from chatcart.broadcasts.schemas import BroadcastCreate, BroadcastOut, BroadcastPurpose, Throttle
from chatcart.channels import service as channels
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.models import Contact, ContactIdentity
from chatcart.runtime import Runtime
from chatcart.sandbox.graph.app import create_graph_app
from chatcart.sandbox.graph.model import RateLimits
from chatcart.sandbox.graph.state import GraphState
from chatcart.segments import service as segments
from chatcart.segments.schemas import SegmentCreate
from tests.helpers.factory import Shop, make_shop
from tests.helpers.servers import serve_app

PAGE = "100200300400500"
TOKEN = "EAA-demo-page-token"
SECRET = "demo-app-secret"
FIRST = ("An", "Bình", "Chi", "Dũng", "Hà", "Lan", "Minh", "Nam")


@dataclass
class World:
    rt: Runtime  # adapters pointed at the sandbox
    graph: GraphState
    shop: Shop
    account_id: int
    graph_url: str

    async def add_people(
        self, n: int, *, window_hours: float | None = 1.0, start: int = 0, tz: str | None = None
    ) -> list[int]:
        """n contacts with a Messenger identity; window_hours: their last message that many
        hours ago (None: never wrote)."""
        now = utcnow()
        last = None if window_hours is None else now - timedelta(hours=window_hours)
        ws = self.shop.workspace_id
        contacts = [
            {
                "workspace_id": ws,
                "name": f"{FIRST[i % len(FIRST)]} Nguyễn {i}",
                "first_name": FIRST[i % len(FIRST)],
                "last_name": "Nguyễn",
                "timezone": tz,
                "source": {},
                "search_text": f"nguyen {i}",
                "order_count": 0,
                "total_spent": 0,
                "created_at": now,
                "last_interaction_at": last,
            }
            for i in range(start, start + n)
        ]
        async with transaction(self.rt.sessions) as session:
            ids = list(
                (await session.scalars(insert(Contact).returning(Contact.id), contacts)).all()
            )
            await session.execute(
                insert(ContactIdentity),
                [
                    {
                        "workspace_id": ws,
                        "contact_id": cid,
                        "channel_account_id": self.account_id,
                        "external_id": psid(i),
                        "last_inbound_at": last,
                        "reachable": True,
                        "profile": {},
                        "created_at": now,
                    }
                    for cid, i in zip(ids, range(start, start + n), strict=True)
                ],
            )
        sandbox_last = (
            None if window_hours is None else self.graph.clock.now() - timedelta(hours=window_hours)
        )
        for i in range(start, start + n):
            self.graph.add_user(
                PAGE,
                psid(i),
                first_name=FIRST[i % len(FIRST)],
                last_name="Nguyễn",
                last_interaction_at=sandbox_last,
            )
        return ids

    async def segment(self, name: str = "Messenger") -> int:
        async with transaction(self.rt.sessions) as session:
            out = await segments.create(
                session,
                self.shop.workspace_id,
                SegmentCreate(name=name, filter={"type": "channel", "kinds": ["messenger"]}),
            )
        return out.id

    async def create(
        self,
        text: str = "{{Chào|Xin chào}} {{first_name}}, giảm 20% hôm nay!",
        *,
        segment_id: int | None = None,
        purpose: BroadcastPurpose = BroadcastPurpose.PROMOTION,
        **throttle: Any,
    ) -> BroadcastOut:
        segment_id = segment_id or await self.segment(f"seg {utcnow().timestamp()}")
        async with transaction(self.rt.sessions) as session:
            return await broadcasts.create(
                session,
                self.shop.workspace_id,
                BroadcastCreate(
                    name="Sale 11.11",
                    channel_account_ids=[self.account_id],
                    segment_id=segment_id,
                    text=text,
                    purpose=purpose,
                    throttle=Throttle(**throttle),
                ),
            )

    async def start(self, broadcast_id: int) -> BroadcastOut:
        async with transaction(self.rt.sessions) as session:
            return await broadcasts.start(session, Effects(), self.shop.workspace_id, broadcast_id)

    async def progress(self, broadcast_id: int) -> Any:
        async with self.rt.sessions() as session:
            return await broadcasts.progress(session, self.shop.workspace_id, broadcast_id)

    async def identities(self) -> dict[int, str]:
        async with self.rt.sessions() as session:
            rows = await session.execute(
                select(ContactIdentity.contact_id, ContactIdentity.external_id)
            )
            return {contact_id: external for contact_id, external in rows.all()}

    def accepted_by_user(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.graph.sends(PAGE):
            if record.accepted and record.user_id:
                counts[record.user_id] = counts.get(record.user_id, 0) + 1
        return counts

    async def reconnect(self, token: str) -> None:
        self.graph.add_page(PAGE, token, SECRET, name="Shop Áo Thun")
        async with transaction(self.rt.sessions) as session:
            await channels.connect_meta(
                session,
                self.rt.secrets,
                workspace_id=self.shop.workspace_id,
                kind="messenger",
                name="Shop Áo Thun",
                external_id=PAGE,
                page_token=token,
                app_secret=SECRET,
            )


def psid(i: int) -> str:
    return f"{7000000000000000 + i}"


@asynccontextmanager
async def sandbox_world(runtime: Runtime, *, rate: float = 100_000) -> AsyncIterator[World]:
    graph = GraphState(rates=RateLimits(text_per_second=rate))
    shop = await make_shop(runtime)
    async with serve_app(create_graph_app(graph)) as host:
        settings = runtime.settings.model_copy(update={"graph_api_url": f"http://{host}"})
        rt = Runtime.open(settings)
        try:
            async with transaction(rt.sessions) as session:
                account = await channels.connect_meta(
                    session,
                    rt.secrets,
                    workspace_id=shop.workspace_id,
                    kind="messenger",
                    name="Shop Áo Thun",
                    external_id=PAGE,
                    page_token=TOKEN,
                    app_secret=SECRET,
                )
            graph.add_page(PAGE, TOKEN, SECRET, name="Shop Áo Thun")
            yield World(rt, graph, shop, account.id, f"http://{host}")
        finally:
            await rt.close()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
