"""CSV import bench: `python -m bench import [--postgres] [--rows N]`.

A generated file of N rows (default 20,000) the way sellers export them from a spreadsheet:
Vietnamese names, a phone (some typed locally, some invalid), an email for half, one to three
tags, two custom fields (a choice and a number) and marketing consent. Imported into an empty
workspace (every row creates a contact), then the same file again (every row matches one and
changes nothing). Rows per second for both, through contacts.service.import_csv (the CLI's
and the admin's path), and a baseline in the same run: the same contacts, phones and tags
written by a bare driver executemany (no matching, no checks), as a ratio.

SQLite in a temporary directory by default; --postgres uses a fresh schema, dropped at the end.
Figures only, never pass/fail on time.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.segments import FAMILY, PG_URL, TAG_NAMES, _admin, _Bulk, _given_names
from chatcart import migrate
from chatcart.config import Settings
from chatcart.contacts import service as contacts
from chatcart.contacts.schemas import FieldDefinitionIn, FieldType
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.textnorm import fold
from chatcart.models import Tag
from chatcart.runtime import Runtime
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate


def make_file(rows: int, seed: int = 20261121) -> bytes:
    rng = random.Random(seed)
    given = _given_names()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Họ tên", "SĐT", "Email", "Nhãn", "Cỡ áo", "Ngân sách", "consent_marketing"])
    for n in range(rows):
        name = f"{rng.choice(FAMILY)} {rng.choice(given)}"
        number = f"9{n:08d}"
        roll = rng.random()
        phone = (
            f"0{number[:3]} {number[3:6]} {number[6:]}"
            if roll < 0.5
            else f"+84{number}"
            if roll < 0.95
            else f"12{n}"  # too short: kept as text, never matched
        )
        email = f"khach{n}@example.vn" if rng.random() < 0.5 else ""
        tags = ";".join(rng.sample(TAG_NAMES, rng.choice((1, 1, 2, 3))))
        size = rng.choice(("S", "M", "L", ""))
        budget = str(rng.randrange(100, 5000) * 1000) if rng.random() < 0.4 else ""
        consent = rng.choice(("granted", "", ""))
        writer.writerow([name, phone, email, tags, size, budget, consent])
    return buffer.getvalue().encode("utf-8-sig")


async def baseline(runtime: Runtime, workspace_id: int, rows: int) -> float:
    """The same number of contacts + phones + tag links written by executemany."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        tags = [Tag(workspace_id=workspace_id, name=n, key=fold(n)) for n in TAG_NAMES]
        session.add_all(tags)
        await session.flush()
        tag_ids = [t.id for t in tags]
    started = time.perf_counter()
    async with runtime.engine.begin() as conn:
        bulk = _Bulk(conn)
        first = int((await conn.execute(text("SELECT coalesce(max(id), 0) FROM contact"))).scalar())
        contacts_rows, points, tagged = [], [], []
        for n in range(rows):
            cid = first + n + 1
            name = f"Bench {n}"
            contacts_rows.append((cid, workspace_id, name, {}, None, fold(name), 0, 0, None, now))
            points.append(
                (workspace_id, cid, "phone", f"+849{n:08d}", f"09{n:08d}", True, "import", now, now)
            )
            tagged.append((cid, tag_ids[n % len(tag_ids)], now))
        await bulk.insert(
            "contact",
            ["id", "workspace_id", "name", "source", "last_interaction_at", "search_text",
             "order_count", "total_spent", "last_order_at", "created_at"],
            contacts_rows,
        )  # fmt: skip
        await bulk.insert(
            "contact_point",
            ["workspace_id", "contact_id", "kind", "value", "raw", "valid", "source",
             "first_seen_at", "last_seen_at"],
            points,
        )  # fmt: skip
        await bulk.insert("contact_tag", ["contact_id", "tag_id", "tagged_at"], tagged)
    return rows / (time.perf_counter() - started)


async def _run(runtime: Runtime, rows: int, shape: str) -> None:
    data = make_file(rows)
    async with transaction(runtime.sessions) as session:
        ws = await workspaces.create(session, WorkspaceCreate(name="Bench", slug="bench"))
        other = await workspaces.create(session, WorkspaceCreate(name="Base", slug="base"))
        await contacts.define_field(
            session,
            ws.id,
            FieldDefinitionIn(
                key="size", label="Cỡ áo", type=FieldType.choice, choices=["S", "M", "L"]
            ),
        )
        await contacts.define_field(
            session,
            ws.id,
            FieldDefinitionIn(key="budget", label="Ngân sách", type=FieldType.number),
        )
    print(f"contacts import bench on {shape}: {rows:,} rows, {len(data) / 2**20:.1f} MiB")
    rates: list[float] = []
    for label in ("first import (creates)", "same file again (unchanged)"):
        started = time.perf_counter()
        report = await contacts.import_csv(runtime.sessions, ws.id, data)
        elapsed = time.perf_counter() - started
        print(
            f"  {label:30} {rows / elapsed:8,.0f} rows/s  ({elapsed:.1f} s; created "
            f"{report.created:,}, updated {report.updated:,}, unchanged {report.unchanged:,}, "
            f"skipped {report.skipped:,})"
        )
        rates.append(rows / elapsed)
    bare = await baseline(runtime, other.id, rows)
    ratio = rates[0] / bare
    print(f"  {'bare executemany baseline':30} {bare:8,.0f} rows/s  (first import = {ratio:.2f}x)")


async def main(postgres: bool, rows: int) -> None:
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
                await _run(runtime, rows, "PostgreSQL" if postgres else "SQLite")
            finally:
                await runtime.close()
        finally:
            if schema:
                await _admin(PG_URL, f"DROP SCHEMA {schema} CASCADE")


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench import", description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    asyncio.run(main(args.postgres, args.rows))


if __name__ == "__main__":
    run(sys.argv[1:])
