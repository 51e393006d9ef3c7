"""The two-step first page (among the contacts who interacted last, else the driven query)
returns exactly the page the plain query returns, whether or not the window holds it."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from chatcart.kit.db import transaction
from chatcart.models import Contact
from chatcart.runtime import Runtime
from chatcart.segments import service
from chatcart.segments.audience import Audience
from chatcart.segments.schemas import parse_filter
from tests.helpers.factory import make_shop
from tests.segments.helpers import contact
from tests.segments.world import NOW

FILTERS = [
    {"type": "orders", "metric": "count", "op": "gte", "value": 1},  # dense
    {"type": "orders", "metric": "count", "op": "gte", "value": 3},  # sparse
    {"type": "created", "op": "within_days", "value": 36_500},  # everyone
    {"type": "orders", "metric": "count", "op": "eq", "value": 99},  # nobody
]


@pytest.mark.parametrize("window", [3, 10, 5000])
async def test_two_step_first_page_is_the_plain_first_page(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    shop = await make_shop(runtime)
    rng = random.Random(window)
    async with transaction(runtime.sessions) as session:
        for n in range(40):
            last = None if rng.random() < 0.2 else NOW - timedelta(minutes=rng.randrange(500))
            await contact(
                session, shop.workspace_id, f"c{n}",
                last_interaction_at=last, order_count=rng.choice((0, 0, 1, 2, 3)),
            )  # fmt: skip
    monkeypatch.setattr(service, "RECENT_WINDOW", window)
    async with runtime.sessions() as session:
        for raw in FILTERS:
            node = parse_filter(raw)
            for limit in (1, 5, 20):
                plain = await service.audience(session, shop.workspace_id, node, NOW)
                expected = [
                    row[0]
                    for row in await service.repository.page(session, Audience(plain), limit=limit)
                ]
                got = await service.preview(session, shop.workspace_id, node, limit, now=NOW)
                assert [row.id for row in got.items] == expected, (raw, limit)
            listed = await service.list_contacts(session, shop.workspace_id, limit=7, now=NOW)
            everyone = await service.list_contacts(
                session,
                shop.workspace_id,
                limit=7,
                q="c",
                now=NOW,  # search: the plain path
            )
            assert [r.id for r in listed] == [r.id for r in everyone]


@pytest.mark.parametrize("window", [5, 12, 30])
async def test_merged_contacts_in_the_window_are_passed_over(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """The window's edge counts merged contacts too (the recency index alone answers it):
    when the latest interactions are merged contacts', the page still holds members only,
    found in the window or after it."""
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        keeper = await contact(session, shop.workspace_id, "keeper", last_interaction_at=NOW)
        ids = []
        for n in range(30):
            moment = NOW - timedelta(minutes=n + 1)
            ids.append(
                await contact(session, shop.workspace_id, f"c{n}", last_interaction_at=moment)
            )
        for merged in ids[:10]:  # the ten latest, after the keeper, are merged into it
            row = await session.get(Contact, merged)
            assert row is not None
            row.merged_into_id = keeper
    monkeypatch.setattr(service, "RECENT_WINDOW", window)
    everyone = {"type": "created", "op": "within_days", "value": 36_500}
    async with runtime.sessions() as session:
        got = await service.preview(session, shop.workspace_id, everyone, 5, now=NOW)
    assert [row.id for row in got.items] == [keeper, *ids[10:14]]
