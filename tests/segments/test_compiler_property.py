"""The compiled SQL selects exactly what a brute-force Python evaluation of the same filter
selects, over the same random contacts (hypothesis generates the filters). Runs on SQLite and,
with CHATCART_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatcart.runtime import Runtime
from chatcart.segments import compiler, service
from chatcart.segments.schemas import parse_filter
from tests.segments.world import (
    BIRTHDAYS,
    CITIES,
    EDGE_DAYS,
    FIELDS,
    NOW,
    PURPOSES,
    SCORES,
    SOURCE_VALUES,
    TAG_NAMES,
    US,
    World,
    build_world,
)


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await build_world(runtime)


days = st.sampled_from([*EDGE_DAYS, 400])
instants = st.sampled_from(
    [NOW, NOW - timedelta(days=1), NOW - timedelta(days=30), NOW - timedelta(days=30) - US]
).map(lambda moment: moment.isoformat()) | st.just("2026-10-01")


def time_rule(type_: str, ops: list[str], extra: dict[str, Any] | None = None) -> Any:
    def build(op: str, day: int, instant: str) -> dict[str, Any]:
        rule: dict[str, Any] = {"type": type_, "op": op, **(extra or {})}
        if op in {"within_days", "not_within_days"}:
            rule["value"] = day
        elif op in {"before", "after"}:
            rule["value"] = instant
        return rule

    return st.builds(build, st.sampled_from(ops), days, instants)


tag_names = st.sampled_from([*TAG_NAMES, "khach quen", "KHÁCH QUEN", "da nang", "nobody has"])
tags = st.builds(
    lambda has, names: {"type": "tags", "has": has, "tags": names},
    st.sampled_from(["any", "all", "none"]),
    st.lists(tag_names, min_size=1, max_size=3),
)

FIELD_VALUES: dict[str, list[Any]] = {
    "text": [*CITIES, "Hà", "nội", "NOI", "ha", "%", "_x"],
    "choice": ["S", "M", "L", "XL"],
    "number": [*SCORES, 2, 5],
    "date": [d.isoformat() for d in BIRTHDAYS] + ["1999-01-01"],
    "boolean": [True, False],
}
FIELD_OPS: dict[str, list[str]] = {
    "text": ["eq", "ne", "contains", "is_set", "is_not_set"],
    "choice": ["eq", "ne", "contains", "is_set", "is_not_set"],
    "number": ["eq", "ne", "gt", "lt", "between", "is_set", "is_not_set"],
    "date": ["eq", "ne", "gt", "lt", "between", "is_set", "is_not_set"],
    "boolean": ["eq", "ne", "is_set", "is_not_set"],
}


@st.composite
def field_rules(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(sorted(FIELDS)))
    type_ = FIELDS[key][0]
    op = draw(st.sampled_from(FIELD_OPS[type_]))
    rule: dict[str, Any] = {"type": "field", "key": key, "op": op}
    pool = FIELD_VALUES[type_]
    if op == "between":
        low, high = sorted(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2)))
        rule["values"] = [low, high]
    elif op == "contains":
        rule["value"] = draw(st.sampled_from([v for v in FIELD_VALUES["text"] if v]))
    elif op not in {"is_set", "is_not_set"}:
        rule["value"] = draw(st.sampled_from(pool))
    return rule


@st.composite
def source_rules(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from([*SOURCE_VALUES, "page_url"]))
    op = draw(st.sampled_from(["eq", "ne", "contains", "is_set", "is_not_set"]))
    rule: dict[str, Any] = {"type": "source", "key": key, "op": op}
    if op not in {"is_set", "is_not_set"}:
        pool = [v for values in SOURCE_VALUES.values() for v in values]
        rule["value"] = draw(st.sampled_from([*pool, "sale", "SALE", "-", "1"]))
    return rule


@st.composite
def order_rules(draw: st.DrawFn) -> dict[str, Any]:
    metric = draw(st.sampled_from(["count", "total_spent", "last_order_at"]))
    if metric == "last_order_at":
        ops = ["before", "after", "within_days", "not_within_days", "is_set", "is_not_set"]
        return dict(draw(time_rule("orders", ops, {"metric": metric})))
    op = draw(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte", "between"]))
    pool = [0, 1, 2, 3, 5] if metric == "count" else [0, 50_000, 120_000, 2_000_000]
    rule: dict[str, Any] = {"type": "orders", "metric": metric, "op": op}
    if op == "between":
        rule["values"] = sorted(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2)))
    else:
        rule["value"] = draw(st.sampled_from(pool))
    return rule


kinds = st.sampled_from(["webchat", "messenger", "instagram"])
leaves = st.one_of(
    tags,
    field_rules(),
    st.builds(
        lambda ks: {"type": "channel", "kinds": ks},
        st.lists(kinds | st.just("whatsapp"), min_size=1, max_size=2, unique=True),
    ),
    st.builds(lambda k: {"type": "messageable", "channel": k}, kinds),
    time_rule("last_interaction", ["before", "after", "within_days", "not_within_days"]),
    st.builds(lambda v: {"type": "has_phone", "value": v}, st.booleans()),
    source_rules(),
    order_rules(),
    time_rule("created", ["before", "after", "within_days", "not_within_days"]),
    st.builds(
        lambda purpose, status: {"type": "consent", "purpose": purpose, "status": status},
        st.sampled_from([*PURPOSES, "surveys"]),
        st.sampled_from(["granted", "revoked", "unknown"]),
    ),
)
filters = st.recursive(
    leaves,
    lambda children: st.builds(
        lambda op, rules: {"type": "group", "op": op, "rules": rules},
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=1, max_size=4),
    ),
    max_leaves=8,
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=filters)
async def test_compiled_sql_matches_brute_force(
    runtime: Runtime, world: World, raw: dict[str, Any]
) -> None:
    node = parse_filter(raw)
    expected = world.expected(raw)
    async with runtime.sessions() as session:
        for drive in (True, False):  # one predicate drives (IN) / every one probes (EXISTS)
            query = compiler.compile(
                node, world.workspace_id, NOW, world.fields, drive=drive
            ).bound()
            got = set((await session.scalars(query)).all())
            assert got == expected, (drive, raw, sorted(got - expected), sorted(expected - got))
        # The service inlines the workspace's tag and account ids (a catalog).
        audience = await service.audience(session, world.workspace_id, node, NOW)
        got = set((await session.scalars(audience)).all())
        assert got == expected, ("catalog", raw, sorted(got - expected), sorted(expected - got))
        counted = await service.count(session, world.workspace_id, node, now=NOW)
    assert counted.count == len(expected)


async def test_the_world_is_not_trivial(runtime: Runtime, world: World) -> None:
    """Sanity: the random data gives every kind of predicate both members and non-members."""
    mine = [p for p in world.people if p.workspace_id == world.workspace_id]
    assert any(p.merged_into_id for p in mine)
    probes: list[dict[str, Any]] = [
        {"type": "messageable", "channel": "messenger"},
        {"type": "messageable", "channel": "instagram"},
        {"type": "tags", "has": "all", "tags": ["VIP", "khach quen"]},
        {"type": "field", "key": "city", "op": "contains", "value": "ha"},
        {"type": "source", "key": "ref", "op": "contains", "value": "sale"},
        {"type": "consent", "purpose": "marketing", "status": "unknown"},
        {"type": "has_phone", "value": True},
    ]
    async with runtime.sessions() as session:
        for probe in probes:
            expected = world.expected(probe)
            assert 0 < len(expected) < len(mine), probe
            query = compiler.compile(
                parse_filter(probe), world.workspace_id, NOW, world.fields
            ).bound()
            assert set((await session.scalars(query)).all()) == expected, probe


@pytest.mark.parametrize("needle", ["ha", "HA", "đà", "Đà", "ĐÀ", "nẵng", "NẴNG", "%", "_x", "0%"])
async def test_contains_folds_a_to_z_only(runtime: Runtime, world: World, needle: str) -> None:
    """The same answer on both engines: PostgreSQL's lower() would fold Đ -> đ, SQLite's not."""
    raw = {"type": "field", "key": "city", "op": "contains", "value": needle}
    async with runtime.sessions() as session:
        query = compiler.compile(parse_filter(raw), world.workspace_id, NOW, world.fields).bound()
        got = set((await session.scalars(query)).all())
    assert got == world.expected(raw)
