"""Broadcast bench: `python -m bench broadcast [--postgres] [--recipients N] [--send M]
[--cap R --paced K]` (`run(argv)` is the entry point for `python -m bench`).

N contacts (default 1,000,000) with a Messenger identity inside the 24-hour window, one
segment of all of them, and the strict Graph sandbox in a child process (its users are made
on first sight with an open window, and it keeps a count instead of a log, so a million sends
fit; everything else is the sandbox's own send path). Figures, each against a bare baseline
measured in the same run:

* audience snapshot: `service.start` (segment compiled, ONE INSERT ... SELECT into the
  ledger) vs a hand-written bare INSERT ... SELECT of the same rows (target <= 3x);
* dispatch with no throttle (the broadcast has no cap and the account's platform limit is
  off): recipients sent per CPU-second of this process (the dispatcher and its database),
  against two bare baselines with the same client settings (kit.http), no database:
  - the bare aiohttp send loop: one POST per message, 50 in flight; this is the issue's
    baseline (targets >= 0.5x and >= 5,000 msg/s/core on SQLite);
  - bare Graph batches: the same bodies posted 50 to a batch request (what the runner
    sends), 10 requests in flight; the ratio against it says what the database and the
    bookkeeping cost on top of the sending itself.
  M recipients (default N);
* extra memory during the dispatch: peak RSS growth over the RSS at its start (target
  <= 50 MB per 1M recipients);
* pacing accuracy: K recipients (default 5,000) with a cap of R/s (default 500): the rate of
  the sends after the first window, from the outbox attempts' start times (target +/- 2 %).

SQLite in a temporary directory by default; --postgres uses a fresh schema, dropped at the end,
analyzed after the generation as autovacuum would.
Figures only, never pass/fail on time.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from sqlalchemy import bindparam, delete, select, text

from bench.segments import PG_URL, _admin, _Bulk
from chatcart import migrate
from chatcart.broadcasts import service as broadcasts
from chatcart.broadcasts.schemas import BroadcastCreate, BroadcastPurpose, Throttle
from chatcart.broadcasts.service import BroadcastRunner
from chatcart.channels import service as channels
from chatcart.channels.meta.graph import form_body, form_value
from chatcart.config import Settings
from chatcart.kit import heap
from chatcart.kit.clock import utcnow
from chatcart.kit.db import UTCDateTime, transaction
from chatcart.kit.effects import Effects
from chatcart.kit.http import create_session
from chatcart.models import BroadcastRecipient, DeliveryAttempt, OutboundMessage
from chatcart.runtime import Runtime
from chatcart.sandbox.graph.app import create_graph_app
from chatcart.sandbox.graph.model import RateLimits, SendRecord, User
from chatcart.sandbox.graph.state import GraphState
from chatcart.segments import service as segments
from chatcart.segments.schemas import SegmentCreate
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate

PAGE = "900800700600500"
TOKEN = "EAA-bench-token"  # noqa: S105 (the sandbox's throwaway Page)
SECRET = "bench-secret"  # noqa: S105
CHUNK = 20_000
CONCURRENCY = 50
BATCH_REQUESTS = 10
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TEXT = "{{Chào|Xin chào|Hi}} {{first_name}}, {{sale 12.12|giảm giá 12.12}}: -20% hôm nay!"


class _BenchGraph(GraphState):
    """The sandbox with users made on first sight (window open) and a counted log."""

    def __init__(self) -> None:
        super().__init__(rates=RateLimits(text_per_second=10**9, media_per_second=10**9))
        self.accepted = 0

    def user(self, account_id: str, user_id: str) -> User | None:
        found = self.users.get((account_id, user_id))
        if found is None and account_id in self.accounts:
            found = self.add_user(
                account_id,
                user_id,
                first_name="Khách",
                last_interaction_at=self.clock.now() - timedelta(hours=1),
            )
        return found

    def record(self, **fields: Any) -> SendRecord:
        record = SendRecord(seq=0, at=self.clock.now(), **fields)
        self.accepted += int(record.accepted)
        self.users.pop((fields.get("account_id"), fields.get("user_id")), None)
        return record


def _serve_sandbox(port: int) -> None:
    graph = _BenchGraph()
    graph.add_page(PAGE, TOKEN, SECRET, name="Bench Page")
    uvicorn.run(create_graph_app(graph), host="127.0.0.1", port=port, log_level="warning")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def _people(runtime: Runtime, workspace_id: int, account_id: int, count: int) -> None:
    now = utcnow()
    recent = now - timedelta(hours=1)
    started = time.perf_counter()
    async with runtime.sessions() as session:
        first = int(await session.scalar(text("SELECT coalesce(max(id), 0) FROM contact")) or 0)
    for start in range(0, count, CHUNK):
        contacts = []
        identities = []
        for n in range(start, min(start + CHUNK, count)):
            cid = first + n + 1
            contacts.append(
                (cid, workspace_id, f"Nguyễn Khách {n}", "Khách", {}, recent, "", 0, 0, now)
            )
            external = f"{8 * 10**15 + n}"
            identities.append((workspace_id, cid, account_id, external, recent, True, {}, now))
        async with runtime.engine.begin() as conn:
            bulk = _Bulk(conn)
            await bulk.insert(
                "contact",
                ["id", "workspace_id", "name", "first_name", "source", "last_interaction_at",
                 "search_text", "order_count", "total_spent", "created_at"],
                contacts,
            )  # fmt: skip
            await bulk.insert(
                "contact_identity",
                ["workspace_id", "contact_id", "channel_account_id", "external_id",
                 "last_inbound_at", "reachable", "profile", "created_at"],
                identities,
            )  # fmt: skip
    print(f"  generated {count:,} contacts in {time.perf_counter() - started:.1f} s")


async def _create(
    runtime: Runtime, ws: int, account: int, segment: int, name: str, **throttle: Any
) -> int:
    async with transaction(runtime.sessions) as session:
        out = await broadcasts.create(
            session,
            ws,
            BroadcastCreate(
                name=name,
                channel_account_ids=[account],
                segment_id=segment,
                text=TEXT,
                purpose=BroadcastPurpose.PROMOTION,
                throttle=Throttle(frequency_cap_hours=0, **throttle),
            ),
        )
    return out.id


async def _snapshot(runtime: Runtime, ws: int, account: int, segment: int) -> tuple[int, float]:
    bare_id = await _create(runtime, ws, account, segment, "bare")
    started = time.perf_counter()
    async with transaction(runtime.sessions) as session:
        await session.execute(
            text(
                "INSERT INTO broadcast_recipient "
                "(broadcast_id, contact_id, status, next_attempt_at, attempts) "
                "SELECT :b, contact_id, 'pending', :now, 0 FROM contact_identity "
                "WHERE channel_account_id = :a"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            {"b": bare_id, "a": account, "now": utcnow()},
        )
    bare = time.perf_counter() - started
    async with transaction(runtime.sessions) as session:
        await session.execute(
            delete(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == bare_id)
        )
    broadcast_id = await _create(runtime, ws, account, segment, "measured")
    started = time.perf_counter()
    async with transaction(runtime.sessions) as session:
        await broadcasts.start(session, Effects(), ws, broadcast_id)
    ours = time.perf_counter() - started
    async with runtime.sessions() as session:
        frozen = (await broadcasts.progress(session, ws, broadcast_id)).total
    print(
        f"  audience snapshot of {frozen:,}: service.start {ours:.2f} s, bare INSERT ... SELECT "
        f"{bare:.2f} s -> {ours / bare:.2f}x (target <= 3x)"
    )
    return broadcast_id, ours / bare


def _runner(runtime: Runtime, worker: str) -> BroadcastRunner:
    return BroadcastRunner(
        sessions=runtime.sessions,
        bus=runtime.bus,
        secrets=runtime.secrets,
        adapters=runtime.adapters,
        worker_id=worker,
        limiter=runtime.limiter,
        claim_batch=500,
        lease_seconds=120,
        concurrency=CONCURRENCY,
        account_limits=False,  # "no throttle": the platform's 300/s is not what is measured
    )


async def _dispatch(runtime: Runtime, ws: int, broadcast_id: int, limit: int) -> float:
    runner = _runner(runtime, "bench")
    peak = start_rss = _rss_mb()
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _rss_mb())
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    cpu, wall = _cpu(), time.perf_counter()
    sent = 0
    while sent < limit:
        handled, _ = await runner.drive(broadcast_id)
        if not handled:
            break
        sent += handled
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    stop.set()
    await sampler
    async with runtime.sessions() as session:
        progress = await broadcasts.progress(session, ws, broadcast_id)
    rate = progress.sent / cpu
    print(
        f"  dispatch: {progress.sent:,} sent ({progress.failed} failed) in {wall:.1f} s wall, "
        f"{cpu:.1f} CPU-s -> {rate:,.0f} msg per CPU-second ({progress.sent / wall:,.0f}/s wall)"
    )
    extra = peak - start_rss
    per_million = extra * 1_000_000 / max(1, progress.sent)
    print(
        f"  extra memory: {extra:.1f} MB peak over {start_rss:.0f} MB -> {per_million:.1f} MB "
        "per 1M recipients (target <= 50)"
    )
    return rate


async def _bare_loop(base: str, count: int) -> float:
    """The baseline: POST the same kind of body straight to the sandbox, no database, with
    an aiohttp session configured as chatcart's clients are (kit.http: timeouts, pool)."""
    url = f"v23.0/{PAGE}/messages"
    gate = asyncio.Semaphore(CONCURRENCY)
    async with create_session(base) as http:

        async def one(n: int) -> None:
            body = {
                "recipient": {"id": f"{9 * 10**15 + n}"},
                "messaging_type": "UPDATE",
                "message": {"text": f"Chào Khách {n}, sale 12.12: -20% hôm nay!"},
            }
            async with gate, http.post(url, params={"access_token": TOKEN}, json=body) as reply:
                await reply.read()

        cpu = _cpu()
        for start in range(0, count, 1000):
            await asyncio.gather(*(one(n) for n in range(start, min(count, start + 1000))))
        cpu = _cpu() - cpu
    rate = count / cpu
    print(f"  bare aiohttp loop: {count:,} posts, {cpu:.1f} CPU-s -> {rate:,.0f} per CPU-second")
    return rate


async def _bare_batches(base: str, count: int) -> float:
    """The second baseline: the same bodies as Graph batch requests of 50 (form-encoded by
    the adapter's own encoder), straight to the sandbox, no database."""
    gate = asyncio.Semaphore(BATCH_REQUESTS)
    relative = f"v23.0/{PAGE}/messages"
    async with create_session(base) as http:

        async def one(first: int, last: int) -> None:
            calls = [
                {
                    "method": "POST",
                    "relative_url": relative,
                    "body": form_body(
                        {
                            "recipient": {"id": f"{9 * 10**15 + n}"},
                            "messaging_type": "UPDATE",
                            "message": {"text": f"Chào Khách {n}, sale 12.12: -20% hôm nay!"},
                        }
                    ),
                }
                for n in range(first, last)
            ]
            form = f"access_token={TOKEN}&batch={form_value(orjson.dumps(calls).decode())}"
            async with (
                gate,
                http.post("v23.0/", data=form.encode(), headers=FORM) as reply,
            ):
                answers = orjson.loads(await reply.read())
                assert len(answers) == last - first

        cpu = _cpu()
        for start in range(0, count, 50 * 100):
            stop = min(count, start + 50 * 100)
            await asyncio.gather(*(one(n, min(stop, n + 50)) for n in range(start, stop, 50)))
        cpu = _cpu() - cpu
    rate = count / cpu
    print(
        f"  bare Graph batches of 50: {count:,} messages, {cpu:.1f} CPU-s -> {rate:,.0f} per "
        "CPU-second"
    )
    return rate


async def _pacing(
    runtime: Runtime, ws: int, account: int, segment: int, cap: int, count: int
) -> None:
    broadcast_id = await _create(runtime, ws, account, segment, "paced", max_per_second=cap)
    async with transaction(runtime.sessions) as session:
        await broadcasts.start(session, Effects(), ws, broadcast_id)
        await session.execute(  # only `count` of the audience: the rest is cancelled
            text(
                "UPDATE broadcast_recipient SET status = 'cancelled' WHERE broadcast_id = :b "
                "AND id NOT IN (SELECT id FROM broadcast_recipient WHERE broadcast_id = :b "
                "ORDER BY id LIMIT :n)"
            ),
            {"b": broadcast_id, "n": count},
        )
    runner = _runner(runtime, "paced")
    while True:
        handled, _ = await runner.drive(broadcast_id)
        if not handled:
            break
    async with runtime.sessions() as session:
        starts = sorted(
            (
                await session.scalars(
                    select(DeliveryAttempt.started_at)
                    .join(
                        OutboundMessage, OutboundMessage.id == DeliveryAttempt.outbound_message_id
                    )
                    .where(OutboundMessage.idempotency_key.like(f"bc:{broadcast_id}:%"))
                )
            ).all()
        )
    span = (starts[-1] - starts[0]).total_seconds()
    rate = (len(starts) - cap) / span
    print(
        f"  pacing: {len(starts):,} sends capped at {cap}/s over {span:.2f} s -> {rate:.1f}/s "
        f"after the first window ({(rate / cap - 1) * 100:+.2f} %, target +/- 2 %)"
    )


async def _run(runtime: Runtime, args: argparse.Namespace, sandbox: str) -> None:
    shape = "PostgreSQL" if args.postgres else "SQLite"
    print(f"broadcast bench on {shape}: {args.recipients:,} recipients, sandbox in a child process")
    async with transaction(runtime.sessions) as session:
        ws = (await workspaces.create(session, WorkspaceCreate(name="Bench", slug="bench"))).id
        account = (
            await channels.connect_meta(
                session,
                runtime.secrets,
                workspace_id=ws,
                kind="messenger",
                name="Bench Page",
                external_id=PAGE,
                page_token=TOKEN,
                app_secret=SECRET,
            )
        ).id
    await _people(runtime, ws, account, args.recipients)
    if args.postgres:
        # A live database has statistics (autovacuum analyzes after bulk changes); without
        # them the planner guesses one row per table and picks a nested loop that makes
        # both snapshots quadratic (5 s for 30,000 rows).
        async with transaction(runtime.sessions) as session:
            await session.execute(text("ANALYZE contact, contact_identity, channel_account"))
    async with transaction(runtime.sessions) as session:
        segment = (
            await segments.create(
                session,
                ws,
                SegmentCreate(name="all", filter={"type": "channel", "kinds": ["messenger"]}),
            )
        ).id
    broadcast_id, _ = await _snapshot(runtime, ws, account, segment)
    heap.settle_for_serving()  # as `chatcart worker` does before its loops
    bare = await _bare_loop(sandbox, min(args.send, 50_000))
    batches = await _bare_batches(sandbox, min(args.send, 200_000))
    ours = await _dispatch(runtime, ws, broadcast_id, args.send)
    print(
        f"  dispatch vs the bare aiohttp send loop (the issue's baseline): {ours / bare:.2f}x "
        f"(targets >= 0.5x, >= 5,000 msg/s/core); vs bare Graph batches: {ours / batches:.2f}x"
    )
    async with transaction(runtime.sessions) as session:  # the paced run's own audience
        await broadcasts.cancel(session, Effects(), ws, broadcast_id)
    await _pacing(runtime, ws, account, segment, args.cap, args.paced)


async def main(args: argparse.Namespace) -> None:
    port = _free_port()
    sandbox = multiprocessing.get_context("spawn").Process(target=_serve_sandbox, args=(port,))
    sandbox.start()
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                await client.get(f"{base}/_sandbox/clock", timeout=1)
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            schema = f"bench_{secrets.token_hex(4)}" if args.postgres else None
            if schema:
                await _admin(PG_URL, f"CREATE SCHEMA {schema}")
            try:
                settings = Settings(
                    _env_file=None,  # type: ignore[call-arg]
                    data_dir=Path(tmp),
                    database_url=PG_URL if args.postgres else f"sqlite+aiosqlite:///{tmp}/bench.db",
                    database_schema=schema,
                    secret_key="bench",  # noqa: S106 (throwaway database)
                    graph_api_url=base,
                )
                await asyncio.to_thread(migrate.upgrade, settings.database_url, schema=schema)
                runtime = Runtime.open(settings)
                try:
                    await _run(runtime, args, base)
                finally:
                    await runtime.close()
            finally:
                if schema:
                    await _admin(PG_URL, f"DROP SCHEMA {schema} CASCADE")
    finally:
        sandbox.terminate()
        sandbox.join(10)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench broadcast", description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--send", type=int, default=None, help="dispatch only this many")
    parser.add_argument("--cap", type=int, default=500, help="the paced run's cap per second")
    parser.add_argument("--paced", type=int, default=5_000, help="the paced run's recipients")
    args = parser.parse_args(argv)
    args.send = args.send or args.recipients
    args.paced = min(args.paced, args.recipients)
    asyncio.run(main(args))
