"""Segments bench: `python -m bench.segments [--postgres] [--contacts N]` (`run(argv)` is
the entry point for `python -m bench`).

Generates N contacts (default 1,000,000; Vietnamese names from ../shared/data/names-vi-tl/
when present) with identities whose last inbound message is spread over 60 days, phones, and
tags. Then, warm, best of 5, interleaved:

* count and first page (20 rows, latest interaction first) of a 4-predicate segment —
  tags any [VIP, Khách quen] AND messageable on Messenger now AND has a valid phone AND
  interacted within 30 days — compiled by segments.compiler (through service.audience, so the
  compile is timed too), against hand-written SQL strings doing the same in three shapes (all
  EXISTS, all IN, the window as IN + EXISTS); the ratio is to the fastest hand shape;
* the same after ANALYZE, and after adding the indexes the report suggests (bench-only), with
  the preview (page + phones + tags) and GET /contacts' first page;
* an export of every member id of a 1M-member segment through service.iter_members, with
  the Python heap's peak growth (tracemalloc) at 10%, 50% and 100% of the stream: flat.

SQLite in a temporary directory by default; --postgres uses a fresh schema, dropped at the end.
Figures only, never pass/fail on time.
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
from typing import Any

from sqlalchemy import TextClause, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from chatcart import migrate
from chatcart.config import Settings
from chatcart.kit.db import UTCDateTime, create_engine, transaction
from chatcart.kit.textnorm import fold
from chatcart.models import ChannelAccount, Contact, Tag
from chatcart.runtime import Runtime
from chatcart.segments import repository, service
from chatcart.segments.schemas import parse_filter
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
PAGE = 20
NOW = datetime.now(UTC).replace(microsecond=0)

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


async def generate(runtime: Runtime, workspace_id: int, count: int) -> dict[str, Any]:
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
            inbound = NOW - timedelta(seconds=rng.randrange(60 * day))
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
                        NOW - timedelta(seconds=rng.randrange(400 * day)),
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
# What a person would write for SEGMENT, knowing the tag and account ids. Three shapes; each
# figure is compared with the fastest of them on this engine and schema.

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
HAND: dict[str, str] = {
    "EXISTS": " AND ".join((_BASE, _TAGS_EXISTS, _WINDOW_EXISTS, _PHONE_EXISTS)),
    "IN": " AND ".join((_BASE, _TAGS_IN, _WINDOW_IN, _PHONE_IN)),
    "window IN": " AND ".join((_BASE, _WINDOW_IN, _TAGS_EXISTS, _PHONE_EXISTS)),
}
_ORDER = " ORDER BY contact.last_interaction_at DESC NULLS LAST, contact.id DESC LIMIT 20"
_LIST = """SELECT contact.id, contact.name, contact.last_interaction_at, contact.created_at
FROM contact WHERE contact.workspace_id = :ws AND contact.merged_into_id IS NULL
ORDER BY contact.last_interaction_at DESC NULLS LAST, contact.id DESC LIMIT 50"""


def _hand(where: str, page: bool) -> TextClause:
    columns = "contact.id, contact.name, contact.last_interaction_at, contact.created_at"
    head = f"SELECT {columns}" if page else "SELECT count(*)"
    head += " FROM contact WHERE "
    # Bound with the type the ORM uses, so SQLite compares the same text.
    return text(head + where + (_ORDER if page else "")).bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("window", type_=UTCDateTime())
    )


# ---- timing ------------------------------------------------------------------------------

Run = Callable[[], Awaitable[Any]]


async def _best(run: Run) -> tuple[float, Any]:
    result = await run()  # warm-up
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - started)
    return best * 1000, result


async def _interleaved(runs: dict[str, Run]) -> dict[str, tuple[float, Any]]:
    figures: dict[str, tuple[float, Any]] = {}
    for _ in range(2):  # twice, interleaved, so machine noise hits all alike; keep the best
        for name, run in runs.items():
            ms, result = await _best(run)
            if name not in figures or ms < figures[name][0]:
                figures[name] = (ms, result)
    return figures


async def measure(
    runtime: Runtime, workspace_id: int, ids: dict[str, Any], label: str
) -> dict[str, float]:
    node = parse_filter(SEGMENT)
    params = {
        "ws": workspace_id,
        "since": NOW - timedelta(days=30),
        "window": NOW - timedelta(hours=24),
        "vip": ids["tags"]["VIP"],
        "regular": ids["tags"]["Khách quen"],
        "messenger": ids["accounts"]["messenger"],
    }
    async with runtime.sessions() as session:

        def hand(statement: TextClause, rows: bool) -> Run:
            async def run() -> Any:
                result = await session.execute(statement, params)
                return [row[0] for row in result.all()] if rows else result.scalar_one()

            return run

        async def compiled_count() -> int:
            # compile included: what a count request costs
            audience = await service.audience(session, workspace_id, node, NOW)
            return await repository.count(session, audience)

        async def compiled_page() -> list[int]:
            # The two-step first page (service._first_page), compile included.
            rows = await service.first_page(session, workspace_id, node, PAGE, NOW)
            return [row[0] for row in rows]

        async def preview() -> list[int]:
            page = await service.preview(session, workspace_id, node, limit=PAGE, now=NOW)
            return [row.id for row in page.items]

        async def contacts_list() -> list[int]:
            rows = await service.list_contacts(session, workspace_id, limit=50, now=NOW)
            return [row.id for row in rows]

        runs: dict[str, Run] = {"compiled count": compiled_count}
        runs |= {f"hand count {k}": hand(_hand(w, False), False) for k, w in HAND.items()}
        runs["compiled page"] = compiled_page
        runs |= {f"hand page {k}": hand(_hand(w, True), True) for k, w in HAND.items()}
        runs["service.preview"] = preview
        runs["service.list_contacts"] = contacts_list
        runs["hand list"] = hand(text(_LIST), True)
        figures = await _interleaved(runs)

    count = figures["compiled count"][1]
    page = figures["compiled page"][1]
    for shape in HAND:
        assert figures[f"hand count {shape}"][1] == count, (shape, figures)
        assert figures[f"hand page {shape}"][1] == page, (shape, figures)
    assert figures["service.preview"][1] == page
    assert figures["service.list_contacts"][1] == figures["hand list"][1]
    print(f"\n{label}\n  segment of {count:,} contacts; ms, best of {REPEATS} warm runs")
    print(f"  {'':10}{'compiled':>10}" + "".join(f"{'hand ' + k:>16}" for k in HAND) + "   ratio")
    result: dict[str, float] = {}
    for what in ("count", "page"):
        ours = figures[f"compiled {what}"][0]
        hands = [figures[f"hand {what} {k}"][0] for k in HAND]
        result[what] = ours
        result[f"{what} ratio"] = ours / min(hands)
        cells = "".join(f"{ms:16.1f}" for ms in hands)
        print(f"  {what:10}{ours:10.1f}{cells}{ours / min(hands):7.2f}x")
    print(
        f"  service.preview (page + phones + tags) {figures['service.preview'][0]:.1f} ms; "
        f"GET /contacts first 50 {figures['service.list_contacts'][0]:.1f} ms "
        f"(hand {figures['hand list'][0]:.1f} ms)"
    )
    return result


async def export(runtime: Runtime, workspace_id: int, total: int) -> None:
    """Every member id through iter_members; heap growth at 10 / 50 / 100% of the stream."""
    marks = {max(1, total // 10): "10%", max(1, total // 2): "50%", total: "100%"}
    seen = 0
    peaks: list[tuple[str, float]] = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    async with runtime.sessions() as session:
        async for page in service.iter_members(session, workspace_id, EVERYONE, now=NOW):
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


async def main(postgres: bool, contacts: int, analyzed_only: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{secrets.token_hex(4)}" if postgres else None
        if schema:
            await _admin(PG_URL, f"CREATE SCHEMA {schema}")
        try:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                data_dir=Path(tmp),
                database_url=PG_URL if postgres else f"sqlite+aiosqlite:///{tmp}/bench.db",
                database_schema=schema,
                secret_key="bench",  # noqa: S106 (throwaway database)
            )
            await asyncio.to_thread(migrate.upgrade, settings.database_url, schema=schema)
            runtime = Runtime.open(settings)
            try:
                await _run(runtime, postgres, contacts, analyzed_only)
            finally:
                await runtime.close()
        finally:
            if schema:
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


async def _run(runtime: Runtime, postgres: bool, contacts: int, analyzed_only: bool) -> None:
    shape = "PostgreSQL" if postgres else "SQLite"
    names = "names-vi-tl" if _given_names() is not FALLBACK_GIVEN else "built-in names"
    print(f"segments bench on {shape}: {contacts:,} contacts ({names}); segment:")
    print(f"  {json.dumps(SEGMENT, ensure_ascii=False)}")
    async with transaction(runtime.sessions) as session:
        ws = await workspaces.create(session, WorkspaceCreate(name="Bench", slug="bench"))
    started = time.perf_counter()
    ids = await generate(runtime, ws.id, contacts)
    print(f"  generation: {time.perf_counter() - started:.1f} s")
    analyze = "VACUUM ANALYZE" if postgres else "ANALYZE"
    if not postgres and not analyzed_only:
        await measure(runtime, ws.id, ids, "SQLite, the migrations' indexes, no statistics")
    await _ddl(runtime, [analyze])
    await measure(runtime, ws.id, ids, f"{shape}, the migrations' indexes, after {analyze}")
    indexes = _suggested(postgres)
    await _ddl(
        runtime,
        [f"CREATE INDEX {name} ON {table} ({cols})" for name, (table, cols) in indexes.items()]
        + [analyze],
    )
    suggested = "; ".join(f"{table}({cols})" for table, cols in indexes.values())
    await measure(runtime, ws.id, ids, f"{shape}, + suggested indexes {suggested}, {analyze}")
    await export(runtime, ws.id, contacts)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.segments", description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument(
        "--analyzed-only",
        action="store_true",
        help="skip SQLite's round without statistics (its hand-written shapes take minutes)",
    )
    args = parser.parse_args(argv)
    asyncio.run(main(args.postgres, args.contacts, args.analyzed_only))


if __name__ == "__main__":
    run(sys.argv[1:])
