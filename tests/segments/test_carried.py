"""The compiler's strategies beyond the random property test: probes carried into the
driving subquery, selects kept across calls with `now` as parameters, and how many
statements a count and a first page cost. Runs on SQLite and, with
CHATCART_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from chatcart.runtime import Runtime
from chatcart.segments import compiler, repository, service
from chatcart.segments.schemas import parse_filter
from tests.segments.world import NOW, US, World, build_world


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await build_world(runtime)


def _and(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"type": "group", "op": "and", "rules": list(rules)}


MESSENGER = {"type": "messageable", "channel": "messenger"}
VIP = {"type": "tags", "has": "any", "tags": ["VIP", "Khách quen"]}
PHONE = {"type": "has_phone", "value": True}
RECENT = {"type": "last_interaction", "op": "within_days", "value": 30}

CARRIED: list[dict[str, Any]] = [
    # The bench's shape: tags and phone ride in the window's subquery, recency stays out.
    _and(VIP, MESSENGER, PHONE, RECENT),
    # Tags drive; "none of" another tag probes the driver's own table: it stays outside.
    _and(
        {"type": "tags", "has": "any", "tags": ["VIP"]},
        {"type": "tags", "has": "none", "tags": ["mới"]},
        {"type": "has_phone", "value": False},
    ),
    # A carried group, and a carried NOT EXISTS.
    _and(
        {"type": "messageable", "channel": "instagram"},
        {
            "type": "group",
            "op": "or",
            "rules": [
                {"type": "tags", "has": "all", "tags": ["VIP", "sỉ"]},
                {"type": "field", "key": "city", "op": "contains", "value": "ha"},
            ],
        },
        {"type": "consent", "purpose": "marketing", "status": "unknown"},
    ),
    # The driver is a tag nobody has (it compiles to false): its siblings still hold.
    _and({"type": "tags", "has": "any", "tags": ["nobody has"]}, PHONE),
    # A field value drives; an open channel and a contact column ride along.
    _and(
        {"type": "field", "key": "score", "op": "gt", "value": 1.5},
        {"type": "messageable", "channel": "webchat"},
        {"type": "created", "op": "within_days", "value": 30},
    ),
    # A group that reads a contact column is not carried.
    _and(
        {"type": "channel", "kinds": ["messenger"]},
        _and({"type": "tags", "has": "any", "tags": ["VIP"]}, {**RECENT, "value": 7}),
    ),
    # "All of" drives with its first tag; the rest of the group rides along.
    _and({"type": "tags", "has": "all", "tags": ["VIP", "khach quen"]}, PHONE, MESSENGER),
]
MOMENTS = [NOW, NOW + US, NOW - timedelta(hours=1), NOW + timedelta(days=2)]


@pytest.mark.parametrize("raw", CARRIED)
async def test_carried_probes_select_what_brute_force_does(
    runtime: Runtime, world: World, raw: dict[str, Any]
) -> None:
    node = parse_filter(raw)
    async with runtime.sessions() as session:
        for now in MOMENTS:  # the same kept select, other values of `now`
            expected = world.expected(raw, now)
            for drive in (True, False):
                query = compiler.compile(node, world.workspace_id, now, world.fields, drive=drive)
                got = set((await session.scalars(query.select, query.params)).all())
                assert got == expected, (drive, now, raw)
                assert set((await session.scalars(query.bound())).all()) == expected
            counted = await service.count(session, world.workspace_id, node, now=now)
            assert counted.count == len(expected), (now, raw)
            members: set[int] = set()
            async for ids in service.iter_members(session, world.workspace_id, node, now=now):
                members.update(ids)
            assert members == expected


async def test_the_driver_carries_the_probes_of_other_tables(runtime: Runtime) -> None:
    node = parse_filter(_and(VIP, MESSENGER, PHONE, RECENT))
    sql = str(compiler.compile(node, 1, NOW, {}).select)
    driven, _, outside = sql.partition("contact.id IN (")
    assert "contact_tag" not in driven and "contact_point" not in driven
    # Tags and phone are probed on the window's identities, inside the driving subquery...
    assert "contact_tag.contact_id = contact_identity.contact_id" in outside
    assert "contact_point.contact_id = contact_identity.contact_id" in outside
    # ...while the contact's own column is tested on the contact, after the subquery.
    assert outside.rindex("contact.last_interaction_at") > outside.rindex("contact_point")
    # Without a driver (the first page's walk) every probe is on the contact in hand.
    walked = str(compiler.compile(node, 1, NOW, {}, drive=False).select)
    assert "contact.id IN (" not in walked
    assert "contact_tag.contact_id = contact.id" in walked
    # A probe of the driver's own table is not carried (it would need an alias).
    same = _and(
        {"type": "tags", "has": "any", "tags": ["VIP"]},
        {"type": "tags", "has": "none", "tags": ["mới"]},
    )
    sql = str(compiler.compile(parse_filter(same), 1, NOW, {}).select)
    assert "contact_tag.contact_id = contact.id" in sql.partition("contact.id IN (")[2]


async def test_a_kept_select_is_reused_with_new_values_of_now(runtime: Runtime) -> None:
    node = parse_filter(_and(MESSENGER, RECENT))
    first = compiler.compile(node, 1, NOW, {})
    later = compiler.compile(node, 1, NOW + timedelta(hours=3), {})
    assert later.select is first.select
    assert sorted(first.params) == sorted(later.params) and len(first.params) == 2
    assert {v - first.params[k] for k, v in later.params.items()} == {timedelta(hours=3)}
    other = compiler.compile(node, 2, NOW, {})  # another workspace: another select
    assert other.select is not first.select


@contextmanager
def _selects(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_count_and_a_first_page_cost_one_statement_each(
    runtime: Runtime, world: World
) -> None:
    """SQLite: the filter's statement alone (its planner gets nothing from inlined ids, see
    repository.plans_by_value). PostgreSQL: one more for a count, the tag and account ids;
    a first page takes those an earlier call found, checked inside its statement, and the
    recent window's edge an earlier call found, so once warm it is one statement on both.
    A custom field adds the workspace's field definitions."""
    extra = 0 if runtime.engine.dialect.name == "sqlite" else 1
    node = parse_filter(_and(VIP, MESSENGER, PHONE, RECENT))
    async with runtime.sessions() as session:
        with _selects(runtime) as seen:
            await service.count(session, world.workspace_id, node, now=NOW)
        assert len(seen) == 1 + extra, seen
        dense = parse_filter(_and(VIP, PHONE))
        repository.forget()
        with _selects(runtime) as seen:
            page = await service.first_page(session, world.workspace_id, dense, 3, now=NOW)
        assert len(seen) == 2 + extra, seen  # the edge and the ids, then the walk
        assert [row[0] for row in page] == await _plain_page(session, world, dense, 3)
        with _selects(runtime) as seen:
            again = await service.first_page(session, world.workspace_id, dense, 3, now=NOW)
        assert len(seen) == 1, seen  # the recent window held the page
        assert again == page
        with_field = parse_filter(_and(VIP, {"type": "field", "key": "city", "op": "is_set"}))
        with _selects(runtime) as seen:
            await service.count(session, world.workspace_id, with_field, now=NOW)
        assert len(seen) == 2 + extra, seen


async def test_a_sparse_first_page_skips_the_walk_it_found_short(
    runtime: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the walk along the recent window came up short, the next first pages of the
    same audience go straight to the driven query (for SHORT_WALK_KEPT_SECONDS)."""
    monkeypatch.setattr(service, "RECENT_WINDOW", 4)  # a page of 20 is never found there
    extra = 0 if runtime.engine.dialect.name == "sqlite" else 1
    node = parse_filter(_and(VIP, PHONE))
    async with runtime.sessions() as session:
        expected = await _plain_page(session, world, node, 20)
        first = await service.first_page(session, world.workspace_id, node, 20, now=NOW)
        with _selects(runtime) as seen:
            again = await service.first_page(session, world.workspace_id, node, 20, now=NOW)
        assert len(seen) == 1 + extra, seen  # the driven page (and the ids on PostgreSQL)
        monkeypatch.setattr(service, "SHORT_WALK_KEPT_SECONDS", 0.0)
        with _selects(runtime) as seen:
            walked = await service.first_page(session, world.workspace_id, node, 20, now=NOW)
        assert len(seen) > 1 + extra, seen  # walked again first
    assert [row[0] for row in first] == [row[0] for row in again] == expected
    assert [row[0] for row in walked] == expected


async def _plain_page(session: Any, world: World, node: Any, limit: int) -> list[int]:
    """The first page the slow way: every member, sorted here."""
    query = compiler.compile(node, world.workspace_id, NOW, world.fields).bound()
    members = set((await session.scalars(query)).all())
    people = [p for p in world.people if p.id in members]
    floor = NOW - timedelta(days=100_000)
    people.sort(key=lambda p: (p.last_interaction_at or floor, p.id), reverse=True)
    return [p.id for p in people[:limit]]
