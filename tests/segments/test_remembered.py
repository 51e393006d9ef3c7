"""What the first page takes from earlier calls (the tag and account ids, the recent window's
edge) never changes a result: a catalog out of date selects nobody inside the statement
that inlined it, and an edge out of date only moves where the walk stops. Runs on SQLite
and, with CHATCART_TEST_DATABASE_URL, on PostgreSQL (where the first page inlines ids)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.db import transaction
from chatcart.kit.textnorm import fold
from chatcart.models import ChannelAccount, Contact, ContactTag, Tag
from chatcart.runtime import Runtime
from chatcart.segments import compiler, repository, service
from chatcart.segments.audience import Audience
from chatcart.segments.schemas import Catalog, parse_filter
from tests.segments.helpers import account, identity
from tests.segments.world import NOW, World, build_world

VIP = {"type": "tags", "has": "any", "tags": ["VIP", "Khách quen"]}
ALL_OF = {"type": "tags", "has": "all", "tags": ["VIP", "sỉ"]}
NONE_OF = {"type": "tags", "has": "none", "tags": ["mới"]}
MESSENGER = {"type": "messageable", "channel": "messenger"}
CHANNEL = {"type": "channel", "kinds": ["messenger", "instagram"]}
FILTERS: list[dict[str, Any]] = [
    {"type": "group", "op": "and", "rules": [VIP, MESSENGER]},
    {"type": "group", "op": "or", "rules": [ALL_OF, CHANNEL]},
    {"type": "group", "op": "and", "rules": [NONE_OF, CHANNEL]},
]
# What each filter names: the tag keys and account kinds its ids stand for.
NAMED: list[tuple[set[str], set[str]]] = [
    ({"vip", fold("Khách quen")}, {"messenger"}),
    ({"vip", fold("sỉ")}, {"messenger", "instagram"}),
    ({fold("mới")}, {"messenger", "instagram"}),
]
KEYS = [fold(name) for name in ("VIP", "Khách quen", "sỉ", "mới", "nobody has")]


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await build_world(runtime)


async def _rename(session: AsyncSession, ws: int) -> None:
    row = await session.scalar(select(Tag).where(Tag.workspace_id == ws, Tag.key == "vip"))
    assert row is not None
    row.name, row.key = "VIP cũ", "vip cu"


async def _recreate(session: AsyncSession, ws: int) -> None:
    """A new VIP (after the rename), on a few contacts that had the old one."""
    new = Tag(workspace_id=ws, name="VIP", key="vip")
    session.add(new)
    await session.flush()
    old = await session.scalar(select(Tag.id).where(Tag.workspace_id == ws, Tag.key == "vip cu"))
    tagged = (
        await session.scalars(select(ContactTag.contact_id).where(ContactTag.tag_id == old))
    ).all()
    session.add_all(ContactTag(contact_id=c, tag_id=new.id) for c in list(tagged)[::2])


async def _delete(session: AsyncSession, ws: int) -> None:
    await session.execute(delete(Tag).where(Tag.workspace_id == ws, Tag.key == fold("sỉ")))


async def _swap_names(session: AsyncSession, ws: int) -> None:
    """Two named tags trade names: the same ids, each under the other's name."""
    regular_key = fold("Khách quen")
    rows = {
        row.key: row
        for row in await session.scalars(
            select(Tag).where(Tag.workspace_id == ws, Tag.key.in_(["vip", regular_key]))
        )
    }
    vip, regular = rows["vip"], rows[regular_key]
    for row, key in ((vip, "swap"), (regular, "vip"), (vip, regular_key)):
        row.key = key
        await session.flush()


async def _new_account(session: AsyncSession, ws: int) -> None:
    """A second Messenger page, with a few contacts reachable there now."""
    page = await account(session, ws, "messenger", n=2)
    people = (await session.scalars(select(Contact.id).where(Contact.workspace_id == ws))).all()
    for n, contact_id in enumerate(people[:5]):
        await identity(session, ws, contact_id, page, f"second-{n}", last_inbound_at=NOW)


async def _drop_account(session: AsyncSession, ws: int) -> None:
    await session.execute(
        delete(ChannelAccount).where(
            ChannelAccount.workspace_id == ws, ChannelAccount.kind == "instagram"
        )
    )


CHANGES: list[Callable[[AsyncSession, int], Awaitable[None]]] = [
    _rename,
    _recreate,
    _swap_names,
    _delete,
    _new_account,
    _drop_account,
]


async def _members(session: AsyncSession, audience: Audience) -> set[int]:
    return set((await session.scalars(audience.select, audience.params)).all())


async def test_a_checked_catalog_out_of_date_selects_nobody(runtime: Runtime, world: World) -> None:
    """After each change to the named tags or accounts, a select checked against the
    catalog from before selects nobody; checked against the catalog from after, it selects
    what the select naming tags and kinds by subquery does."""
    ws = world.workspace_id
    nodes = [parse_filter(raw) for raw in FILTERS]

    async def catalog(session: AsyncSession) -> Catalog:
        return await repository.catalog(session, ws, KEYS, accounts=True)

    def checked(node: Any, found: Catalog, drive: bool) -> Audience:
        return compiler.compile(
            node, ws, NOW, world.fields, catalog=found, checked=True, drive=drive
        )

    def named(found: Catalog, keys: set[str], kinds: set[str]) -> tuple[Any, ...]:
        tags = {key: found.tags.get(key) for key in keys}
        return tags, {kind: found.accounts.get(kind, ()) for kind in kinds}

    async with runtime.sessions() as session:
        before = await catalog(session)
    stale = 0
    for change in CHANGES:
        async with transaction(runtime.sessions) as session:
            await change(session, ws)
        async with runtime.sessions() as session:
            after = await catalog(session)
            for node, (keys, kinds) in zip(nodes, NAMED, strict=True):
                plain = await _members(session, compiler.compile(node, ws, NOW, world.fields))
                assert plain, (change.__name__, node)  # else "nobody" would prove nothing
                # A change to what the filter does not name leaves its select as it was.
                changed = named(before, keys, kinds) != named(after, keys, kinds)
                stale += changed
                for drive in (False, True):
                    got = await _members(session, checked(node, before, drive))
                    assert got == (set() if changed else plain), (change.__name__, node, drive)
                    assert await _members(session, checked(node, after, drive)) == plain
        before = after
    assert stale >= len(CHANGES)


async def _plain_page(session: AsyncSession, ws: int, node: Any, limit: int) -> list[int]:
    """The first page without anything remembered: the catalog-free select, sorted by SQL."""
    audience = compiler.compile(node, ws, NOW, {})
    return [row[0] for row in await repository.page(session, audience, limit=limit)]


@pytest.mark.parametrize("window", [4, 5000])
async def test_first_pages_stay_right_while_tags_and_accounts_change(
    runtime: Runtime, world: World, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    monkeypatch.setattr(service, "RECENT_WINDOW", window)
    ws = world.workspace_id
    nodes = [parse_filter(raw) for raw in FILTERS]
    for change in [None, *CHANGES]:
        if change is not None:
            async with transaction(runtime.sessions) as session:
                await change(session, ws)
        async with runtime.sessions() as session:
            for node in nodes:
                for limit in (1, 3, 10):
                    got = await service.first_page(session, ws, node, limit, now=NOW)
                    expected = await _plain_page(session, ws, node, limit)
                    assert [row[0] for row in got] == expected, (change, node, limit)


@pytest.mark.parametrize(
    "edge",
    [
        datetime(1, 1, 1, tzinfo=UTC),  # every interaction is in the window
        NOW - timedelta(days=40),
        NOW - timedelta(days=1),
        NOW + timedelta(days=30),  # none is: the walk finds nothing
    ],
)
async def test_an_edge_out_of_date_changes_no_page(
    runtime: Runtime, world: World, monkeypatch: pytest.MonkeyPatch, edge: datetime
) -> None:
    monkeypatch.setattr(service, "RECENT_WINDOW", 6)
    ws = world.workspace_id
    monkeypatch.setitem(repository._EDGES, (ws, 6), (edge, time.monotonic()))
    async with runtime.sessions() as session:
        for raw in FILTERS:
            node = parse_filter(raw)
            for limit in (1, 5, 20):
                monkeypatch.setitem(repository._EDGES, (ws, 6), (edge, time.monotonic()))
                got = await service.first_page(session, ws, node, limit, now=NOW)
                expected = await _plain_page(session, ws, node, limit)
                assert [row[0] for row in got] == expected, (raw, limit)
