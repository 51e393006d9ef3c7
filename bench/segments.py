"""Segments bench: `python -m bench segments [--postgres] [--contacts N] [--keep FILE|SCHEMA]`
(`run(argv)` is the entry point for `python -m bench`).

Generates N contacts (default 1,000,000; Vietnamese names from ../shared/data/names-vi-tl/
when present) with identities whose last inbound message is spread over 60 days, phones, and
tags. Then, warm, best of >= 5 runs (and of as many as fit in 0.3 s), interleaved:

* count and first page (20 rows, latest interaction first) of a 4-predicate segment —
  tags any [VIP, Khách quen] AND messageable on Messenger now AND has a valid phone AND
  interacted within 30 days — through segments.service (count, first_page: the compile and
  the tag / account look-up are timed too; a warm first page takes the ids and the recent
  window's edge that the warm-up found, checked in its one statement, as any repeated
  preview does), against hand-written SQL doing the same in
  several shapes (all EXISTS, all IN, the window as IN + EXISTS, the window's identities
  probed for tags and phone inside the IN, and for the page the same with plain DESC
  instead of NULLS LAST); the ratio is to the fastest hand shape; on SQLite also in CPU time;
* three other segments (dense, without a driver, sparse), each against its own hand shapes;
* the same after ANALYZE, and after adding the indexes the report suggests (bench-only), with
  the preview (page + phones + tags) and GET /contacts' first page;
* an export of every member id of a 1M-member segment through service.iter_members, with
  the Python heap's peak growth (tracemalloc) at 10%, 50% and 100% of the stream: flat.

SQLite in a temporary directory by default; --postgres uses a fresh schema, dropped at the end.
--keep keeps the generated data between runs (generation takes 8-10 minutes on a busy
machine): a kept SQLite file or PostgreSQL schema is migrated to head and reused as it is
(the round without statistics is then skipped); delete the file / DROP SCHEMA ... CASCADE to
start afresh. Figures only, never pass/fail on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import TextClause, bindparam, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from chatcart import migrate
from chatcart.config import Settings
from chatcart.kit.db import UTCDateTime, create_engine, transaction
from chatcart.kit.textnorm import fold
from chatcart.models import ChannelAccount, Contact, Tag
from chatcart.runtime import Runtime
from chatcart.segments import service
from chatcart.segments.schemas import Filter, parse_filter
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NAMES_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "names-vi-tl"
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trương",
    "Mai",
    "Cao",
]
FALLBACK_GIVEN = [
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiếu",
    "Hoa",
    "Hùng",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Minh",
    "Nam",
    "Ngọc",
    "Nhung",
    "Phúc",
    "Phương",
    "Quân",
    "Quang",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thu",
    "Trang",
    "Trung",
    "Tuấn",
    "Vy",
    "Yến",
]
TAG_NAMES = [
    "VIP",
    "Khách quen",
    "Sỉ",
    "Lẻ",
    "Hà Nội",
    "HCM",
    "Đà Nẵng",
    "Đã mua",
    "Chưa mua",
    "Hỏi giá",
    "Size S",
    "Size M",
    "Size L",
    "Áo thun",
    "Váy",
    "Giày",
    "Tết 2026",
    "Sale 11.11",
    "Khiếu nại",
    "Bỏ giỏ",
]
CHUNK = 20_000
REPEATS = 5
MIN_SECONDS = 0.3
ROUNDS = 4
PAGE = 20
NOW = datetime.now(UTC).replace(microsecond=0)  # a kept database brings its own (see _kept)
META = "bench_segments_meta"  # a kept database's generation: its moment, ids and size

SEGMENT: dict[str, Any] = {
    "type": "group",
    "op": "and",
    "rules": [
        {"type": "tags", "has": "any", "tags": ["VIP", "Khách quen"]},
        {"type": "messageable", "channel": "messenger"},
        {"type": "has_phone", "value": True},
        {"type": "last_interaction", "op": "within_days", "value": 30},
    ],
}
EVERYONE: dict[str, Any] = {"type": "created", "op": "within_days", "value": 36_500}


def _given_names() -> list[str]:
    found: list[str] = []
    for name in ("boy.txt", "girl.txt"):
        path = NAMES_DIR / name
        if path.exists():
            found += [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    return found or FALLBACK_GIVEN


# ---- generation --------------------------------------------------------------------------


class _Bulk:
    """Driver-level executemany of plain tuples (the bench's own rows: no ORM, no type
    processing), in the encodings SQLAlchemy itself writes (UTCDateTime, JSON)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"

    def value(self, value: Any) -> Any:
        if not self.sqlite:
            return json.dumps(value) if isinstance(value, dict) else value
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, dict):
            return json.dumps(value)
        if isinstance(value, bool):
            return int(value)
        return value

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        marks = ", ".join("?" if self.sqlite else f"${n + 1}" for n in range(len(columns)))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        await self.conn.exec_driver_sql(
            statement, [tuple(self.value(v) for v in row) for row in rows]
        )


CONTACT_COLUMNS = [
    "id",
    "workspace_id",
    "name",
    "source",
    "last_interaction_at",
    "search_text",
    "order_count",
    "total_spent",
    "last_order_at",
    "created_at",
]
IDENTITY_COLUMNS = [
    "workspace_id",
    "contact_id",
    "channel_account_id",
    "external_id",
    "last_inbound_at",
    "reachable",
    "profile",
    "created_at",
]
POINT_COLUMNS = [
    "workspace_id",
    "contact_id",
    "kind",
    "value",
    "raw",
    "valid",
    "source",
    "first_seen_at",
    "last_seen_at",
]
TAG_COLUMNS = ["contact_id", "tag_id", "tagged_at"]


async def generate(
    runtime: Runtime, workspace_id: int, count: int, now: datetime
) -> dict[str, Any]:
    """N contacts and their identities, phones and tags, in chunks of driver executemany."""
    rng = random.Random(20261121)
    given = _given_names()
    async with transaction(runtime.sessions) as session:
        accounts: dict[str, int] = {}
        for kind in ("messenger", "instagram", "webchat"):
            account = ChannelAccount(
                workspace_id=workspace_id, kind=kind, name=kind, external_id=f"bench-{kind}"
            )
            session.add(account)
            await session.flush()
            accounts[kind] = account.id
        tag_ids: list[int] = []
        for name in TAG_NAMES:
            tag = Tag(workspace_id=workspace_id, name=name, key=fold(name))
            session.add(tag)
            await session.flush()
            tag_ids.append(tag.id)
        first_id = int(await session.scalar(select(func.coalesce(func.max(Contact.id), 0))) or 0)
    weights = [5, 10] + [4] * (len(TAG_NAMES) - 2)  # VIP 5%, Khách quen 10%, the rest spread
    day = 86_400
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        contacts: list[tuple[Any, ...]] = []
        identities: list[tuple[Any, ...]] = []
        points: list[tuple[Any, ...]] = []
        tagged: list[tuple[Any, ...]] = []
        for n in range(start, min(start + CHUNK, count)):
            contact_id = first_id + n + 1
            name = f"{rng.choice(FAMILY)} {rng.choice(given)}"
            # The identities' last inbound message: spread over 60 days.
            inbound = now - timedelta(seconds=rng.randrange(60 * day))
            last = None if rng.random() < 0.05 else inbound + timedelta(seconds=rng.randrange(600))
            orders = rng.choice((0, 0, 0, 1, 1, 2, 3))
            phone = None
            roll = rng.random()
            if roll < 0.65:
                phone = f"+849{rng.randrange(10**8):08d}"
                valid = roll < 0.6
                value = phone if valid else phone[:7]
                points.append(
                    (
                        workspace_id,
                        contact_id,
                        "phone",
                        value,
                        phone,
                        valid,
                        "message",
                        inbound,
                        inbound,
                    )
                )
            local = "0" + phone[3:] if phone else ""
            source = (
                {"channel": "messenger", "ref": rng.choice(("sale1111", "tet"))}
                if rng.random() < 0.3
                else {}
            )
            spent = orders * rng.choice((99_000, 250_000, 1_200_000))
            contacts.append(
                (
                    *(contact_id, workspace_id, name, source, last),
                    *(fold(f"{name} {phone or ''} {local}"), orders, spent),
                    *(
                        inbound if orders else None,
                        now - timedelta(seconds=rng.randrange(400 * day)),
                    ),
                )
            )
            for kind, share in (("messenger", 0.85), ("instagram", 0.15), ("webchat", 0.1)):
                if rng.random() < share:
                    reachable = rng.random() < 0.95
                    identities.append(
                        (
                            *(workspace_id, contact_id, accounts[kind], f"{kind[0]}{contact_id}"),
                            *(inbound, reachable, {}, inbound),
                        )
                    )
            for tag_id in set(rng.choices(tag_ids, weights, k=rng.choice((0, 1, 1, 2, 3)))):
                tagged.append((contact_id, tag_id, inbound))
        async with runtime.engine.begin() as conn:
            bulk = _Bulk(conn)
            await bulk.insert("contact", CONTACT_COLUMNS, contacts)
            await bulk.insert("contact_identity", IDENTITY_COLUMNS, identities)
            await bulk.insert("contact_point", POINT_COLUMNS, points)
            await bulk.insert("contact_tag", TAG_COLUMNS, tagged)
        done = min(start + CHUNK, count)
        if done % 200_000 == 0 or done == count:
            print(f"  generated {done:>9,} contacts in {time.perf_counter() - started:6.1f} s")
    return {"accounts": accounts, "tags": dict(zip(TAG_NAMES, tag_ids, strict=True))}


# ---- hand-written SQL ---------------------------------------------------------------------
# What a person would write for SEGMENT, knowing the tag and account ids, in several shapes;
# each figure is compared with the fastest of them on this engine and schema.

_BASE = """contact.workspace_id = :ws AND contact.merged_into_id IS NULL
AND contact.last_interaction_at >= :since"""
_TAGS_EXISTS = """EXISTS (SELECT 1 FROM contact_tag t
  WHERE t.contact_id = contact.id AND t.tag_id IN (:vip, :regular))"""
_TAGS_IN = """contact.id IN (SELECT t.contact_id FROM contact_tag t
  WHERE t.tag_id IN (:vip, :regular))"""
_WINDOW_EXISTS = """EXISTS (SELECT 1 FROM contact_identity i
  WHERE i.contact_id = contact.id AND i.channel_account_id = :messenger
  AND i.reachable AND i.last_inbound_at >= :window)"""
_WINDOW_IN = """contact.id IN (SELECT i.contact_id FROM contact_identity i
  WHERE i.channel_account_id = :messenger AND i.reachable AND i.last_inbound_at >= :window)"""
_PHONE_EXISTS = """EXISTS (SELECT 1 FROM contact_point p
  WHERE p.contact_id = contact.id AND p.kind = 'phone' AND p.valid)"""
_PHONE_IN = """contact.id IN (SELECT p.contact_id FROM contact_point p
  WHERE p.workspace_id = :ws AND p.kind = 'phone' AND p.valid)"""
# The window's identities, probed for tags and phone before any contact row is read.
_NESTED = """contact.id IN (SELECT i.contact_id FROM contact_identity i
  WHERE i.channel_account_id = :messenger AND i.reachable AND i.last_inbound_at >= :window
  AND EXISTS (SELECT 1 FROM contact_tag t
    WHERE t.contact_id = i.contact_id AND t.tag_id IN (:vip, :regular))
  AND EXISTS (SELECT 1 FROM contact_point p
    WHERE p.contact_id = i.contact_id AND p.kind = 'phone' AND p.valid))"""
HAND: dict[str, str] = {
    "EXISTS": " AND ".join((_BASE, _TAGS_EXISTS, _WINDOW_EXISTS, _PHONE_EXISTS)),
    "IN": " AND ".join((_BASE, _TAGS_IN, _WINDOW_IN, _PHONE_IN)),
    "window IN": " AND ".join((_BASE, _WINDOW_IN, _TAGS_EXISTS, _PHONE_EXISTS)),
    "nested": " AND ".join((_BASE, _NESTED)),
}
# The page's order. Every member interacted within 30 days, so a person writing the page by
# hand may drop NULLS LAST (plain DESC), which lets PostgreSQL walk the recency index
# backwards: the page shapes are each filter above with both orders.
_ORDERS = {
    "": " ORDER BY contact.last_interaction_at DESC NULLS LAST, contact.id DESC LIMIT 20",
    ", DESC": " ORDER BY contact.last_interaction_at DESC, contact.id DESC LIMIT 20",
}
HAND_PAGE: dict[str, tuple[str, str]] = {
    shape + suffix: (where, order)
    for suffix, order in _ORDERS.items()
    for shape, where in HAND.items()
    if not suffix or shape in {"EXISTS", "nested"}
}
_LIST = """SELECT contact.id, contact.name, contact.last_interaction_at, contact.created_at
FROM contact WHERE contact.workspace_id = :ws AND contact.merged_into_id IS NULL
ORDER BY contact.last_interaction_at DESC NULLS LAST, contact.id DESC LIMIT 50"""


# Other segments, so the compiler's strategy is seen on more than one shape: each with the
# hand-written shapes a person would try (the ratio is to the fastest). NULLS LAST stays in
# the page's order where members may never have interacted.
_NULLS_LAST = _ORDERS[""]
_HAS_PHONE = """EXISTS (SELECT 1 FROM contact_point p
  WHERE p.contact_id = {id} AND p.kind = 'phone' AND p.valid)"""
_LIVE = "contact.workspace_id = :ws AND contact.merged_into_id IS NULL"


class Other(NamedTuple):
    filter: dict[str, Any]
    counts: dict[str, str]  # hand shape -> WHERE
    pages: dict[str, tuple[str, str]]  # hand shape -> (WHERE, ORDER BY ... LIMIT)


def _others() -> dict[str, Other]:
    tagged = (
        "EXISTS (SELECT 1 FROM contact_tag t WHERE t.contact_id = {id} AND t.tag_id IN ({tags}))"
    )
    vip = tagged.format(id="contact.id", tags=":vip, :regular")
    vip_driven = f"""contact.id IN (SELECT t.contact_id FROM contact_tag t
      WHERE t.tag_id IN (:vip, :regular) AND {_HAS_PHONE.format(id="t.contact_id")})"""  # noqa: S608
    no_phone = "NOT " + _HAS_PHONE.format(id="contact.id")
    loyal = f"""{_LIVE} AND contact.order_count >= 2 AND contact.created_at >= :created
      AND {no_phone}"""
    complaint = tagged.format(id="contact.id", tags=":complaint")
    instagram = f"""contact.id IN (SELECT i.contact_id FROM contact_identity i
      WHERE i.channel_account_id = :instagram AND i.reachable AND i.last_inbound_at >= :window
      AND {tagged.format(id="i.contact_id", tags=":complaint")})"""  # noqa: S608
    instagram_exists = """EXISTS (SELECT 1 FROM contact_identity i WHERE i.contact_id = contact.id
      AND i.channel_account_id = :instagram AND i.reachable AND i.last_inbound_at >= :window)"""
    vip_exists = f"{_LIVE} AND {vip} AND {_HAS_PHONE.format(id='contact.id')}"
    return {
        "tags + phone (dense)": Other(
            {
                "type": "group",
                "op": "and",
                "rules": [
                    {"type": "tags", "has": "any", "tags": ["VIP", "Khách quen"]},
                    {"type": "has_phone", "value": True},
                ],
            },
            {"EXISTS": vip_exists, "nested": f"{_LIVE} AND {vip_driven}"},
            {
                "EXISTS": (vip_exists, _NULLS_LAST),
                "nested": (f"{_LIVE} AND {vip_driven}", _NULLS_LAST),
            },
        ),
        "no phone + orders + created (no driver)": Other(
            {
                "type": "group",
                "op": "and",
                "rules": [
                    {"type": "has_phone", "value": False},
                    {"type": "orders", "metric": "count", "op": "gte", "value": 2},
                    {"type": "created", "op": "within_days", "value": 100},
                ],
            },
            {"NOT EXISTS": loyal},
            {"NOT EXISTS": (loyal, _NULLS_LAST)},
        ),
        "complaint + messageable on Instagram (sparse)": Other(
            {
                "type": "group",
                "op": "and",
                "rules": [
                    {"type": "tags", "has": "any", "tags": ["Khiếu nại"]},
                    {"type": "messageable", "channel": "instagram"},
                ],
            },
            {
                "nested": f"{_LIVE} AND {instagram}",
                "EXISTS": f"{_LIVE} AND {complaint} AND {instagram_exists}",
            },
            {
                "nested": (f"{_LIVE} AND {instagram}", _NULLS_LAST),
                "EXISTS": (f"{_LIVE} AND {complaint} AND {instagram_exists}", _NULLS_LAST),
            },
        ),
    }


def _hand(where: str, order: str | None) -> TextClause:
    """The count (order None) or the first page of `where`."""
    columns = "contact.id, contact.name, contact.last_interaction_at, contact.created_at"
    head = f"SELECT {columns}" if order is not None else "SELECT count(*)"
    head += " FROM contact WHERE "
    statement = text(head + where + (order or ""))
    moments = [name for name in ("since", "window", "created") if f":{name}" in where]
    # Bound with the type the ORM uses, so SQLite compares the same text.
    return statement.bindparams(*(bindparam(name, type_=UTCDateTime()) for name in moments))


# ---- timing ------------------------------------------------------------------------------

Run = Callable[[], Awaitable[Any]]


class Figure(NamedTuple):
    wall: float  # ms, best run
    cpu: float  # ms of this process's CPU (the aiosqlite thread's too), best run
    result: Any


async def _best(run: Run) -> Figure:
    """Best of at least REPEATS warm runs, and of as many as fit in MIN_SECONDS (a 3 ms
    query gets ~100 tries, so one quiet moment on a busy machine is enough)."""
    result = await run()  # warm-up
    wall = cpu = float("inf")
    runs = 0
    spent = 0.0
    while runs < REPEATS or (spent < MIN_SECONDS and runs < 200):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = await run()
        took = time.perf_counter() - started
        wall, cpu = min(wall, took), min(cpu, time.process_time() - cpu_started)
        runs += 1
        spent += took
    return Figure(wall * 1000, cpu * 1000, result)


async def _interleaved(runs: dict[str, Run]) -> dict[str, Figure]:
    """Rounds of every run in turn, so machine noise hits all alike; the best of each kept.
    Runs under a second get ROUNDS rounds (a few ms are at the mercy of a busy moment),
    slower ones two."""
    figures: dict[str, Figure] = {}
    for round_ in range(ROUNDS):
        for name, run in runs.items():
            if round_ >= 2 and figures[name].wall > 1000:
                continue
            figure = await _best(run)
            if name in figures:
                old = figures[name]
                figure = Figure(min(old.wall, figure.wall), min(old.cpu, figure.cpu), old.result)
            figures[name] = figure
    return figures


async def measure(
    runtime: Runtime, workspace_id: int, ids: dict[str, Any], now: datetime, label: str
) -> dict[str, float]:
    node = parse_filter(SEGMENT)
    params = _params(workspace_id, ids, now)
    async with runtime.sessions() as session:

        def hand(statement: TextClause, rows: bool) -> Run:
            async def run() -> Any:
                result = await session.execute(statement, params)
                return [row[0] for row in result.all()] if rows else result.scalar_one()

            return run

        async def compiled_count() -> int:
            # compile included: what a count request costs
            return (await service.count(session, workspace_id, node, now)).count

        async def compiled_page() -> list[int]:
            # The two-step first page (service._first_page), compile included.
            rows = await service.first_page(session, workspace_id, node, PAGE, now)
            return [row[0] for row in rows]

        async def preview() -> list[int]:
            page = await service.preview(session, workspace_id, node, limit=PAGE, now=now)
            return [row.id for row in page.items]

        async def contacts_list() -> list[int]:
            rows = await service.list_contacts(session, workspace_id, limit=50, now=now)
            return [row.id for row in rows]

        runs: dict[str, Run] = {"compiled count": compiled_count}
        runs |= {f"hand count {k}": hand(_hand(w, None), False) for k, w in HAND.items()}
        runs["compiled page"] = compiled_page
        runs |= {
            f"hand page {k}": hand(_hand(w, order), True) for k, (w, order) in HAND_PAGE.items()
        }
        runs["service.preview"] = preview
        runs["service.list_contacts"] = contacts_list
        runs["hand list"] = hand(text(_LIST), True)
        figures = await _interleaved(runs)

    count = figures["compiled count"].result
    page = figures["compiled page"].result
    for shape in HAND:
        assert figures[f"hand count {shape}"].result == count, (shape, figures)
    for shape in HAND_PAGE:
        assert figures[f"hand page {shape}"].result == page, (shape, figures)
    assert figures["service.preview"].result == page
    assert figures["service.list_contacts"].result == figures["hand list"].result
    # CPU time is this process's: on SQLite the whole query, on PostgreSQL only the client.
    cpu = runtime.engine.dialect.name == "sqlite"
    print(f"\n{label}\n  segment of {count:,} contacts; ms, best of >= {REPEATS} warm runs")
    print(f"  {'':24}{'count':>10}{'page':>10}" + (f"{'count cpu':>11}{'page cpu':>10}" * cpu))
    rows = {"compiled": ("compiled count", "compiled page")} | {
        f"hand {k}": (f"hand count {k}", f"hand page {k}") for k in [*HAND, *HAND_PAGE]
    }
    for name, keys in rows.items():
        found = [figures.get(key) for key in keys]
        walls = "".join("{:>10}".format(f"{f.wall:.1f}" if f else "-") for f in found)
        cpus = "".join("{:>10}".format(f"{f.cpu:.2f}" if f else "-") for f in found)
        print(f"  {name:24}{walls}" + (f" {cpus}" if cpu else ""))
    result: dict[str, float] = {}
    ratios: list[str] = []
    for what, shapes in (("count", HAND), ("page", HAND_PAGE)):
        ours = figures[f"compiled {what}"]
        fastest = min(shapes, key=lambda k: figures[f"hand {what} {k}"].wall)
        best = figures[f"hand {what} {fastest}"]
        result[what] = ours.wall
        result[f"{what} ratio"] = ours.wall / best.wall
        ratio = f"{what} {ours.wall / best.wall:.2f}x (hand {fastest})"
        if cpu:
            fastest_cpu = min(f.cpu for k, f in figures.items() if k.startswith(f"hand {what} "))
            ratio += f", CPU {ours.cpu / fastest_cpu:.2f}x"
        ratios.append(ratio)
    print("  ratio to the fastest hand SQL: " + "; ".join(ratios))
    print(
        f"  service.preview (page + phones + tags) {figures['service.preview'].wall:.1f} ms; "
        f"GET /contacts first 50 {figures['service.list_contacts'].wall:.1f} ms "
        f"(hand {figures['hand list'].wall:.1f} ms)"
    )
    return result


def _params(workspace_id: int, ids: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "ws": workspace_id,
        "since": now - timedelta(days=30),
        "window": now - timedelta(hours=24),
        "created": now - timedelta(days=100),
        "vip": ids["tags"]["VIP"],
        "regular": ids["tags"]["Khách quen"],
        "complaint": ids["tags"]["Khiếu nại"],
        "messenger": ids["accounts"]["messenger"],
        "instagram": ids["accounts"]["instagram"],
    }


async def measure_others(
    runtime: Runtime, workspace_id: int, ids: dict[str, Any], now: datetime
) -> None:
    """Count and first page of other segments (_others) against their hand shapes."""
    params = _params(workspace_id, ids, now)
    print("\n  other segments: ms, best warm run; ratio to the fastest hand shape")
    async with runtime.sessions() as session:

        def hand(statement: TextClause, rows: bool) -> Run:
            async def run() -> Any:
                result = await session.execute(statement, params)
                return [row[0] for row in result.all()] if rows else result.scalar_one()

            return run

        for name, other in _others().items():
            node = parse_filter(other.filter)

            async def count(node: Filter = node) -> int:
                return (await service.count(session, workspace_id, node, now)).count

            async def page(node: Filter = node) -> list[int]:
                rows = await service.first_page(session, workspace_id, node, PAGE, now)
                return [row[0] for row in rows]

            runs: dict[str, Run] = {"count": count, "page": page}
            runs |= {f"count {k}": hand(_hand(w, None), False) for k, w in other.counts.items()}
            runs |= {f"page {k}": hand(_hand(w, o), True) for k, (w, o) in other.pages.items()}
            figures = await _interleaved(runs)
            cells = []
            for what in ("count", "page"):
                ours = figures[what]
                hands = {k: f for k, f in figures.items() if k.startswith(f"{what} ")}
                assert all(f.result == ours.result for f in hands.values()), (name, what)
                fastest = min(hands, key=lambda k: hands[k].wall)
                best = hands[fastest].wall
                cells.append(
                    f"{what} {ours.wall:.1f} (hand {fastest[len(what) + 1 :]} {best:.1f}, "
                    f"{ours.wall / best:.2f}x)"
                )
            print(f"  {name}: {figures['count'].result:,} members; " + "; ".join(cells))


async def export(runtime: Runtime, workspace_id: int, total: int, now: datetime) -> None:
    """Every member id through iter_members; heap growth at 10 / 50 / 100% of the stream."""
    marks = {max(1, total // 10): "10%", max(1, total // 2): "50%", total: "100%"}
    seen = 0
    peaks: list[tuple[str, float]] = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    async with runtime.sessions() as session:
        async for page in service.iter_members(session, workspace_id, EVERYONE, now=now):
            seen += len(page)
            for mark, label in marks.items():
                if seen - len(page) < mark <= seen:
                    peaks.append((label, (tracemalloc.get_traced_memory()[1] - base) / 2**20))
    elapsed = time.perf_counter() - started
    tracemalloc.stop()
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(f"\nexport: {seen:,} member ids through iter_members (pages of 1000) in {elapsed:.1f} s")
    growth = ", ".join(f"{mib:.2f} MiB at {label}" for label, mib in peaks)
    print(f"  Python heap peak growth (tracemalloc): {growth}; max RSS growth {rss:.1f} MiB")


# ---- main --------------------------------------------------------------------------------


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


async def _ddl(runtime: Runtime, statements: Sequence[str]) -> None:
    if runtime.engine.dialect.name == "sqlite":
        async with runtime.engine.begin() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)
        return
    async with runtime.engine.connect() as conn:  # VACUUM runs outside a transaction
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            await conn.exec_driver_sql(statement)


class Options(argparse.Namespace):
    postgres: bool
    contacts: int
    analyzed_only: bool
    keep: str | None
    no_suggested: bool
    no_export: bool
    no_others: bool


async def main(options: Options) -> None:
    postgres = options.postgres
    with tempfile.TemporaryDirectory() as tmp:
        kept = options.keep
        schema = (kept or f"bench_{secrets.token_hex(4)}") if postgres else None
        if schema:
            await _admin(PG_URL, f"CREATE SCHEMA IF NOT EXISTS {schema}")
        sqlite = kept if kept and not postgres else f"{tmp}/bench.db"
        try:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                data_dir=Path(tmp),
                database_url=PG_URL if postgres else f"sqlite+aiosqlite:///{sqlite}",
                database_schema=schema,
                secret_key="bench",  # noqa: S106 (throwaway database)
            )
            started = time.perf_counter()
            await asyncio.to_thread(migrate.upgrade, settings.database_url, schema=schema)
            if kept:
                print(f"migrations to head: {time.perf_counter() - started:.1f} s")
            runtime = Runtime.open(settings)
            try:
                await _run(runtime, options)
            finally:
                await runtime.close()
        finally:
            if schema and not kept:
                await _admin(PG_URL, f"DROP SCHEMA {schema} CASCADE")


def _suggested(postgres: bool) -> dict[str, tuple[str, str]]:
    recent = "workspace_id, last_interaction_at"
    if postgres:  # the preview's order, NULLS LAST, needs it spelled out on PostgreSQL
        recent += " DESC NULLS LAST, id DESC"
    return {
        "ix_bench_identity_window": (
            "contact_identity",
            "channel_account_id, last_inbound_at, reachable, contact_id",
        ),
        "ix_bench_contact_recent": ("contact", recent),
    }


async def _kept(runtime: Runtime) -> dict[str, Any] | None:
    """What a kept database was generated with (None: nothing generated there yet)."""
    async with runtime.engine.connect() as conn:
        has_meta = await conn.run_sync(lambda c: inspect(c).has_table(META))
        if not has_meta:
            return None
        found = (await conn.exec_driver_sql(f"SELECT data FROM {META}")).scalar_one_or_none()  # noqa: S608
    return None if found is None else dict(json.loads(found))


async def _generated(runtime: Runtime, options: Options) -> tuple[dict[str, Any], bool]:
    """(workspace id, tag/account ids, generation moment, size) and whether it is fresh."""
    if options.keep:
        meta = await _kept(runtime)
        if meta is not None:
            if meta["contacts"] != options.contacts:
                raise SystemExit(
                    f"{options.keep} holds {meta['contacts']:,} contacts, not "
                    f"{options.contacts:,}: pass --contacts {meta['contacts']} or drop it"
                )
            print(f"  reusing {options.keep}, generated at {meta['now']}")
            # The bench's own indexes from an earlier run: each round adds what it measures.
            await _ddl(runtime, [f"DROP INDEX IF EXISTS {name}" for name in _suggested(False)])
            return meta, False
        async with runtime.engine.connect() as conn:
            has_contacts = await conn.scalar(text("SELECT count(*) FROM contact"))
        if has_contacts:
            raise SystemExit(f"{options.keep} holds contacts but no {META}: not a kept bench")
    async with transaction(runtime.sessions) as session:
        ws = await workspaces.create(session, WorkspaceCreate(name="Bench", slug="bench"))
    started = time.perf_counter()
    ids = await generate(runtime, ws.id, options.contacts, NOW)
    print(f"  generation: {time.perf_counter() - started:.1f} s")
    meta = {"workspace_id": ws.id, "ids": ids, "now": NOW.isoformat(), "contacts": options.contacts}
    if options.keep:
        await _ddl(
            runtime,
            [
                f"CREATE TABLE {META} (data TEXT NOT NULL)",
                f"INSERT INTO {META} VALUES ('{json.dumps(meta)}')",  # noqa: S608 (our own JSON)
            ],
        )
    return meta, True


async def _run(runtime: Runtime, options: Options) -> None:
    postgres = options.postgres
    shape = "PostgreSQL" if postgres else "SQLite"
    names = "names-vi-tl" if _given_names() is not FALLBACK_GIVEN else "built-in names"
    print(f"segments bench on {shape}: {options.contacts:,} contacts ({names}); segment:")
    print(f"  {json.dumps(SEGMENT, ensure_ascii=False)}")
    meta, fresh = await _generated(runtime, options)
    ws_id, ids = int(meta["workspace_id"]), meta["ids"]
    now = datetime.fromisoformat(meta["now"])
    analyze = "VACUUM ANALYZE" if postgres else "ANALYZE"
    if not postgres and not options.analyzed_only and fresh:
        await measure(runtime, ws_id, ids, now, "SQLite, the migrations' indexes, no statistics")
    await _ddl(runtime, [analyze])
    await measure(runtime, ws_id, ids, now, f"{shape}, the migrations' indexes, after {analyze}")
    if not options.no_others:
        await measure_others(runtime, ws_id, ids, now)
    if not options.no_suggested:
        indexes = _suggested(postgres)
        await _ddl(
            runtime,
            [f"CREATE INDEX {name} ON {table} ({cols})" for name, (table, cols) in indexes.items()]
            + [analyze],
        )
        suggested = "; ".join(f"{table}({cols})" for table, cols in indexes.values())
        label = f"{shape}, + suggested indexes {suggested}, {analyze}"
        await measure(runtime, ws_id, ids, now, label)
        if options.keep:
            await _ddl(runtime, [f"DROP INDEX IF EXISTS {name}" for name in indexes])
    if not options.no_export:
        await export(runtime, ws_id, options.contacts, now)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench segments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument(
        "--analyzed-only",
        action="store_true",
        help="skip SQLite's round without statistics (its hand-written shapes take minutes)",
    )
    parser.add_argument(
        "--keep",
        metavar="FILE|SCHEMA",
        help="keep the generated data and reuse it on the next run with the same --keep: a "
        "SQLite database file, or with --postgres a schema name (e.g. bench_segments_1m)",
    )
    parser.add_argument(
        "--no-suggested", action="store_true", help="skip the round with bench-only indexes"
    )
    parser.add_argument("--no-export", action="store_true", help="skip the 1M-id export")
    parser.add_argument(
        "--no-others", action="store_true", help="skip the other segments' count and page"
    )
    options = parser.parse_args(argv, namespace=Options())
    if options.keep and not options.postgres:
        options.keep = str(Path(options.keep).resolve())
    asyncio.run(main(options))


if __name__ == "__main__":
    run(sys.argv[1:])
