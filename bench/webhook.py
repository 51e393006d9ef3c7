"""Webhook bench (`python -m bench webhook`, or `python -m bench.webhook`).

Two figures, each as a ratio to a bare baseline measured in the same run:

* ack: signed Messenger webhooks (one event each, distinct mids) POSTed by many concurrent
  clients for a few seconds. chatcart (no worker: verify -> record raw body and items ->
  200) against a bare Starlette endpoint that reads the body and answers 200. Both servers
  run in a child process under the same uvicorn and garbage-collector settings. The load
  comes from wrk when it is installed (found on PATH; a Python client saturates before a
  bare server does), else from aiohttp clients in this process, and the output says which.
* webhook -> reply: chatcart with its worker, its Messenger adapter pointed at the Graph
  sandbox (served in this process). Per message, the time from the webhook POST to the
  sandbox receiving the reply. Baseline: a bare aiohttp sender posting the same number of
  messages to the same sandbox (the bare round trip). Measured flat out (capacity) and
  paced at --rate messages per second (latency at that load; repeat --rate for several).
  Several Pages, since each Page may only be sent 300 messages a second.

Each figure comes with the CPU time the chatcart process(es) spent per ack or message
(user + system, all threads, from /proc), the figure that the load of other jobs on the
machine bends least, and the CPU this process (load generator + sandbox) spent per message.

SQLite (embedded shape: one process) by default; --postgres for PostgreSQL + Redis;
--split runs the worker loops in a second process, as `chatcart worker` (wake-ups over
Redis, on either database).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvicorn

from chatcart.channels.meta.signature import sign
from chatcart.config import Settings
from chatcart.sandbox.graph import emit
from chatcart.sandbox.graph.app import create_graph_app
from chatcart.sandbox.graph.model import RateLimits, SendRecord
from chatcart.sandbox.graph.state import GraphState

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "bench-app-secret"  # noqa: S105 (the bench's own throwaway Pages)
GRAPH_VERSION = "v23.0"
ROOT = Path(__file__).resolve().parent.parent


# ---- servers ------------------------------------------------------------------------------


def _bare_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def receive(request: Request) -> PlainTextResponse:
        await request.body()
        return PlainTextResponse("EVENT_RECEIVED")

    return Starlette(routes=[Route("/webhooks/{kind}/{account_id}", receive, methods=["POST"])])


def _serve_child(kind: str, port: int, settings_json: str, worker: bool) -> None:
    """Runs in the child process: one server, same uvicorn settings for both kinds; or
    (kind "worker") the worker loops alone, as `chatcart worker` runs them."""
    if kind == "worker":
        _worker_child(settings_json)
        return
    if kind == "bare":
        app = _bare_app()
    else:
        from chatcart.main import create_app

        values = json.loads(settings_json)
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        app = create_app(settings, run_worker=worker)
    _settle()  # as `chatcart serve` does (the same for both servers)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _settle() -> None:
    """The collector settings `chatcart serve` and `chatcart worker` use (none in a tree
    from before kit/heap: the bench can measure an older tree the way it served)."""
    try:
        from chatcart.kit import heap
    except ImportError:  # pragma: no cover
        return
    heap.settle_for_serving()


def _worker_child(settings_json: str) -> None:
    from chatcart.runtime import Runtime
    from chatcart.worker.loops import Worker

    settings = Settings(_env_file=None, **json.loads(settings_json))  # type: ignore[call-arg]

    async def work() -> None:
        runtime = Runtime.open(settings)
        try:
            worker = Worker(runtime)
            _settle()
            await worker.run()
        finally:
            await runtime.close()

    import uvloop

    uvloop.run(work())


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), from /proc; 0.0 where
    there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    url: str
    pid: int
    others: list[int] = field(default_factory=list)  # more processes of the same server

    def cpu(self) -> float:
        return sum(_cpu_seconds(pid) for pid in (self.pid, *self.others))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _child(
    kind: str, settings: dict[str, Any] | None = None, *, worker: bool = False
) -> AsyncIterator[Server]:
    port = _free_port()
    argv = [sys.executable, "-m", "bench.webhook", "--serve", kind, "--port", str(port)]
    argv += ["--settings", json.dumps(settings or {})]
    if worker:
        argv.append("--worker")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATCART_")}
    proc = subprocess.Popen(argv, env=env, cwd=ROOT)  # noqa: S603, ASYNC220 (started once)
    base = f"http://127.0.0.1:{port}"
    try:
        if kind == "worker":  # no HTTP: it is ready when the first contacts are answered
            await asyncio.sleep(0.5)
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited with {proc.returncode}")
            yield Server("", proc.pid)
            return
        async with aiohttp.ClientSession() as session:
            for _ in range(600):  # up to 30 s
                if proc.poll() is not None:
                    raise RuntimeError(f"{kind} server exited with {proc.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(base + "/bench-ready"):
                        break
                await asyncio.sleep(0.05)
        yield Server(base, proc.pid)
    finally:
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, 15)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)


@contextlib.asynccontextmanager
async def _in_process(app: Any) -> AsyncIterator[str]:
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    config.access_log = False
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


# ---- the database -----------------------------------------------------------------------


@dataclass
class Shape:
    postgres: bool
    tmp: str
    schema: str | None = None

    def settings(self, name: str, **extra: Any) -> dict[str, Any]:
        url = PG_URL if self.postgres else f"sqlite+aiosqlite:///{self.tmp}/{name}.db"
        return {
            "data_dir": self.tmp,
            "database_url": url,
            "database_schema": self.schema,
            "redis_url": REDIS_URL if self.postgres else None,
            "secret_key": "bench",
            "worker_poll_seconds": 1.0,
            **extra,
        }


@contextlib.asynccontextmanager
async def _database(postgres: bool) -> AsyncIterator[Shape]:
    from sqlalchemy import text

    from chatcart.kit.db import create_engine

    with tempfile.TemporaryDirectory() as tmp:
        shape = Shape(postgres, tmp)
        try:
            yield shape
        finally:
            if shape.schema:
                engine = create_engine(PG_URL)
                async with engine.begin() as conn:
                    await conn.execute(text(f"DROP SCHEMA {shape.schema} CASCADE"))
                await engine.dispose()


async def _fresh(shape: Shape, name: str, pages: list[str]) -> tuple[dict[str, Any], list[int]]:
    """A fresh database (a new file, or a new PostgreSQL schema) with one workspace and one
    connected Messenger account per Page; returns the settings and the account ids."""
    from sqlalchemy import text

    from chatcart import migrate
    from chatcart.channels import service as channels
    from chatcart.kit.db import create_engine, transaction
    from chatcart.runtime import Runtime
    from chatcart.workspaces import service as workspaces
    from chatcart.workspaces.schemas import WorkspaceCreate

    if shape.postgres:
        if shape.schema:
            engine = create_engine(PG_URL)
            async with engine.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA {shape.schema} CASCADE"))
            await engine.dispose()
        shape.schema = f"bench_{secrets.token_hex(4)}"
        engine = create_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {shape.schema}"))
        await engine.dispose()
    values = shape.settings(name)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    await asyncio.to_thread(migrate.upgrade, settings.database_url, schema=settings.database_schema)
    runtime = Runtime.open(settings)
    ids = []
    try:
        async with transaction(runtime.sessions) as session:
            ws = await workspaces.create(session, WorkspaceCreate(name="Bench", slug="bench"))
            for page in pages:
                account = await channels.connect_meta(
                    session,
                    runtime.secrets,
                    workspace_id=ws.id,
                    kind="messenger",
                    name=f"Page {page}",
                    external_id=page,
                    page_token=f"token-{page}",
                    app_secret=SECRET,
                )
                ids.append(account.id)
    finally:
        await runtime.close()
    return values, ids


# ---- load -------------------------------------------------------------------------------


def _quantile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _webhook_body(page: str, psid: str, mid: str, text: str) -> bytes:
    now = int(time.time() * 1000)
    item = {
        "sender": {"id": psid},
        "recipient": {"id": page},
        "timestamp": now,
        "message": {"mid": mid, "text": text},
    }
    entry = {"id": page, "time": now, "messaging": [item]}
    return emit.encode({"object": "page", "entry": [entry]})


async def _ack_load(url: str, page: str, seconds: float, clients: int) -> tuple[int, int, float]:
    """POST signed single-event webhooks from `clients` concurrent senders for `seconds`;
    returns (answered 200, other answers, elapsed)."""
    counter = itertools.count()
    run = secrets.token_hex(4)
    ok = bad = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal ok, bad
            while time.perf_counter() < deadline:
                n = next(counter)
                body = _webhook_body(page, f"psid-{n % 5000}", f"m_{run}_{n}", "còn hàng không?")
                headers = {
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(SECRET, body),
                }
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status == 200:
                        ok += 1
                    else:
                        bad += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return ok, bad, elapsed


_WRK_SCRIPT = r"""
-- Signed requests prepared by bench/webhook.py, one "signature<TAB>body" per line; each
-- thread takes every n-th line from its own offset, so no two requests repeat a mid.
counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  sigs, bodies = {}, {}
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    sigs[#sigs + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  step = tonumber(args[2])
  idx = tid + 1 - step
end
function request()
  idx = idx + step
  if idx > #bodies then idx = tid + 1 end
  local headers = {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = sigs[idx]}
  return wrk.format("POST", nil, headers, bodies[idx])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d\n", summary.requests, summary.errors.status,
                         summary.duration))
end
"""


async def _ack_load_wrk(
    wrk: str, url: str, page: str, seconds: float, clients: int
) -> tuple[int, int, float]:
    """`_ack_load` with wrk (C, two threads) as the load generator: the same signed
    single-event webhooks, prepared up front (more than wrk can send in the time)."""
    run = secrets.token_hex(4)
    count = int(seconds * 40_000)
    threads = 2
    with tempfile.TemporaryDirectory() as tmp:
        requests = Path(tmp) / "requests.tsv"
        with requests.open("wb") as out:
            for n in range(count):
                body = _webhook_body(page, f"psid-{n % 5000}", f"m_{run}_{n}", "còn hàng không?")
                out.write(sign(SECRET, body).encode() + b"\t" + body + b"\n")
        script = Path(tmp) / "signed.lua"
        script.write_text(_WRK_SCRIPT)
        argv = [wrk, f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s"]
        argv += ["-s", str(script), url, "--", str(requests), str(threads)]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out_bytes, err = await proc.communicate()
    for line in out_bytes.decode().splitlines():
        if line.startswith("RESULT "):
            total, bad, micros = (int(v) for v in line.split()[1:])
            return total - bad, bad, micros / 1e6
    raise RuntimeError(f"wrk gave no result: {err.decode()[-500:]}")


async def bench_ack(shape: Shape, seconds: float, clients: int, rounds: int) -> None:
    page = "900000000000001"
    values, (account_id,) = await _fresh(shape, "ack", [page])
    # name -> (answered 200, other answers, elapsed, server CPU seconds), the best round
    best: dict[str, tuple[int, int, float, float]] = {}
    async with _child("bare") as bare, _child("chatcart", values) as app:
        servers = {"baseline": bare, "chatcart": app}
        wrk = shutil.which("wrk")

        async def load(server: Server, duration: float) -> tuple[int, int, float, float]:
            url = f"{server.url}/webhooks/messenger/{account_id}"
            cpu = server.cpu()
            if wrk:
                ok, bad, elapsed = await _ack_load_wrk(wrk, url, page, duration, clients)
            else:
                ok, bad, elapsed = await _ack_load(url, page, duration, clients)
            return ok, bad, elapsed, server.cpu() - cpu

        for server in servers.values():  # warm up both (connections, caches)
            await load(server, 1.0)
        for _ in range(rounds):  # interleaved: noise hits both alike; keep the best
            for name, server in servers.items():
                result = await load(server, seconds)
                if name not in best or result[0] / result[2] > best[name][0] / best[name][2]:
                    best[name] = result
    base_ok, base_bad, base_time, base_cpu = best["baseline"]
    ok, bad, elapsed, cpu = best["chatcart"]
    base_rate, rate = base_ok / base_time, ok / elapsed
    generator = (
        "wrk"
        if wrk
        else "aiohttp in Python (install wrk, e.g. apt-get install wrk: "
        "this generator saturates before a bare server does)"
    )
    print(f"webhook ack: {clients} concurrent senders, {seconds:g} s, best of {rounds}")
    print(f"  load generator: {generator}; load average {_load_average()}")
    print(f"{'':24}{'baseline':>12}{'chatcart':>12}{'ratio':>10}")
    print(f"{'acks/s':24}{base_rate:12.0f}{rate:12.0f}{rate / base_rate:10.2f}x")
    base_per, per = _per_item_us(base_cpu, base_ok + base_bad), _per_item_us(cpu, ok + bad)
    print(f"{'server CPU us/ack':24}{base_per:12.0f}{per:12.0f}{per / base_per:10.2f}x")
    if bad or base_bad:
        print(f"  not 200: baseline {base_bad}, chatcart {bad}")


def _per_item_us(cpu_seconds: float, items: int) -> float:
    return cpu_seconds / items * 1e6 if items else float("nan")


def _load_average() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


class TimedGraph(GraphState):
    """The sandbox, noting (perf_counter) when each send reached it, per Page and person."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[tuple[str | None, str | None], list[float]] = defaultdict(list)
        self.refused = 0
        self.actions = 0
        self.waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.count = 0

    def record(self, **fields: Any) -> SendRecord:
        record = super().record(**fields)
        self.log.clear()  # the bench reads arrivals, not the log: keep memory flat
        if record.sender_action is not None:
            self.actions += 1  # typing / seen around a reply: not a reply
        elif record.accepted:
            self.arrivals[(record.account_id, record.user_id)].append(time.perf_counter())
            self.count += 1
            for target, future in self.waiters:
                if self.count >= target and not future.done():
                    future.set_result(None)
        else:
            self.refused += 1
        return record

    async def until(self, total: int, wait: float) -> bool:
        if self.count >= total:
            return True
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((total, future))
        try:
            await asyncio.wait_for(future, wait)
            return True
        except TimeoutError:
            return False


@dataclass
class Run:
    sent: int
    elapsed: float  # first POST to last reply
    latencies: list[float] = field(default_factory=list)
    missing: int = 0
    failed_posts: int = 0
    cpu: float = 0.0  # CPU seconds of the chatcart server during the run
    load_cpu: float = 0.0  # CPU seconds of this process (load, sandbox) during the run

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0


Sender = Callable[[aiohttp.ClientSession, str, str, int], Awaitable[bool]]


async def _drive(
    graph: TimedGraph,
    users: list[tuple[str, str]],
    count: int,
    send: Sender,
    *,
    rate: float | None,
    clients: int,
    wait: float,
) -> Run:
    """Send `count` messages round-robin over `users`, flat out from `clients` senders
    (rate None) or paced at `rate` per second, then wait for every one to reach the
    sandbox; latency is POST start -> arrival, matched per person in order."""
    base = {key: len(graph.arrivals[key]) for key in users}
    target = graph.count + count
    posted: dict[tuple[str, str], list[float]] = defaultdict(list)
    failed = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int) -> None:
            nonlocal failed
            page, psid = users[n % len(users)]
            posted[(page, psid)].append(time.perf_counter())
            if not await send(session, page, psid, n):
                failed += 1

        started = time.perf_counter()
        if rate is None:
            numbers = iter(range(count))

            async def worker() -> None:
                for n in numbers:
                    await one(n)

            await asyncio.gather(*(worker() for _ in range(clients)))
        else:
            tasks = []
            for n in range(count):
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(n)))
            await asyncio.gather(*tasks)
        await graph.until(target, wait)
    last = started
    latencies: list[float] = []
    missing = 0
    for key, starts in posted.items():
        arrived = graph.arrivals[key][base[key] :]
        missing += max(0, len(starts) - len(arrived))
        for begin, end in zip(starts, arrived, strict=False):
            latencies.append(end - begin)
            last = max(last, end)
    return Run(count - missing, last - started, latencies, missing, failed)


async def bench_reply(
    shape: Shape,
    pages: int,
    users_per_page: int,
    count: int,
    rates: list[float],
    clients: int,
    batch_size: int | None,
    split: bool = False,
    paced_only: bool = False,
) -> None:
    page_ids = [f"90000000000{n:04d}" for n in range(1, pages + 1)]
    values, account_ids = await _fresh(shape, "reply", page_ids)
    graph = TimedGraph()
    users = [(p, f"psid-{p[-2:]}-{u}") for p in page_ids for u in range(users_per_page)]
    for page in page_ids:
        graph.add_page(
            page,
            f"token-{page}",
            SECRET,
            granted_profile_fields=("first_name", "last_name", "profile_pic"),
        )
    for page, psid in users:
        graph.add_user(page, psid, first_name=f"Khách {psid[-4:]}", last_name="Nguyễn")

    async with _in_process(create_graph_app(graph)) as graph_url:
        extra: dict[str, Any] = {"graph_api_url": graph_url}
        if batch_size:
            extra["worker_batch_size"] = batch_size
        if split:  # web and worker loops in two processes: wake-ups over Redis
            extra["redis_url"] = REDIS_URL
            extra["redis_prefix"] = f"bench-{secrets.token_hex(4)}:"
        values.update(extra)
        async with contextlib.AsyncExitStack() as stack:
            app = await stack.enter_async_context(_child("chatcart", values, worker=not split))
            if split:
                worker = await stack.enter_async_context(_child("worker", values))
                app.others.append(worker.pid)
            for page, account_id in zip(page_ids, account_ids, strict=True):
                graph.account(page).callback_url = f"{app.url}/webhooks/messenger/{account_id}"

            async def webhook(session: aiohttp.ClientSession, page: str, psid: str, n: int) -> bool:
                event = graph.build.user_says(page, psid, f"cho mình hỏi giá mẫu {n}")
                event.apply()  # opens the 24 h window in the sandbox, as a real message would
                body = emit.encode(emit.envelope([event]))
                url = graph.account(page).callback_url
                assert url is not None
                headers = {"Content-Type": "application/json", "X-Hub-Signature-256": ""}
                headers["X-Hub-Signature-256"] = sign(SECRET, body)
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    return resp.status == 200

            async def bare(session: aiohttp.ClientSession, page: str, psid: str, n: int) -> bool:
                body = orjson.dumps(
                    {
                        "recipient": {"id": psid},
                        "messaging_type": "RESPONSE",
                        "message": {"text": f"Cảm ơn bạn! Shop đã nhận được tin nhắn {n}."},
                    }
                )
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer token-{page}",
                }
                url = f"{graph_url}/{GRAPH_VERSION}/{page}/messages"
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    return resp.status == 200

            # First contact for everyone (contacts, profiles, conversations), not measured.
            warm = await _drive(
                graph, users, len(users), webhook, rate=None, clients=clients, wait=120
            )
            runs: dict[str, Run] = {}
            loads: dict[str, str] = {}
            plan: list[tuple[str, float | None]] = [] if paced_only else [("flat out", None)]
            plan += [(f"paced at {r:g}/s", r) for r in rates]
            for label, paced in plan:
                loads[label] = _load_average()
                # The bare sender has no rate limiter: lift the sandbox's per-Page limit for
                # it; chatcart keeps its own (the policy pack's 300/s per Page) and meets
                # the sandbox's real limit.
                graph.rates = RateLimits(text_per_second=1e9)
                own = time.process_time()
                run = await _drive(graph, users, count, bare, rate=paced, clients=clients, wait=120)
                run.load_cpu = time.process_time() - own
                runs[f"baseline {label}"] = run
                graph.rates = RateLimits()
                cpu, own = app.cpu(), time.process_time()
                run = await _drive(
                    graph, users, count, webhook, rate=paced, clients=clients, wait=120
                )
                run.cpu, run.load_cpu = app.cpu() - cpu, time.process_time() - own
                runs[f"chatcart {label}"] = run

    shape_name = "PostgreSQL + Redis" if shape.postgres else "SQLite (embedded)"
    if split:
        shape_name += ", web and worker in two processes (Redis wake-ups)"
    print(
        f"webhook -> reply on {shape_name}: {pages} Pages x {users_per_page} people, "
        f"{count} messages per run (first contact of all {len(users)}: {warm.rate:.0f} msg/s)"
    )
    print(f"{'':24}{'baseline':>12}{'chatcart':>12}{'ratio':>10}")
    for label in loads:
        base, ours = runs[f"baseline {label}"], runs[f"chatcart {label}"]
        print(f"{label} (load average before: {loads[label]})")
        rows = [
            ("  throughput msg/s", base.rate, ours.rate),
            ("  latency p50 ms", _quantile(base.latencies, 50) * 1000, 0.0),
            ("  latency p95 ms", _quantile(base.latencies, 95) * 1000, 0.0),
            ("  latency p99 ms", _quantile(base.latencies, 99) * 1000, 0.0),
        ]
        for q, row in zip((None, 50, 95, 99), rows, strict=True):
            label_, b, o = row
            if q is not None:
                o = _quantile(ours.latencies, q) * 1000
            print(f"{label_:24}{b:12.1f}{o:12.1f}{o / b if b else float('nan'):10.2f}x")
        per = _per_item_us(ours.cpu, ours.sent)
        print(f"{'  chatcart CPU us/msg':24}{'':12}{per:12.0f}")
        base_load, load = (
            _per_item_us(base.load_cpu, base.sent),
            _per_item_us(ours.load_cpu, ours.sent),
        )
        print(f"{'  bench CPU us/msg':24}{base_load:12.0f}{load:12.0f}   (load + sandbox)")
        for name, run in (("baseline", base), ("chatcart", ours)):
            if run.missing or run.failed_posts:
                print(f"  {name}: {run.missing} never arrived, {run.failed_posts} POSTs not 200")
    if graph.refused:
        print(f"  the sandbox refused {graph.refused} sends")
    print(f"  sender actions (seen / typing) that reached the sandbox: {graph.actions}")


async def main(args: argparse.Namespace) -> None:
    async with _database(args.postgres) as shape:
        if args.only in (None, "ack"):
            await bench_ack(shape, args.seconds, args.clients, args.rounds)
        if args.only is None:
            print()
        if args.only in (None, "reply"):
            await bench_reply(
                shape,
                args.pages,
                args.users,
                args.messages,
                args.rate or [1000.0],
                args.clients,
                args.batch,
                args.split,
                args.paced_only,
            )


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench webhook", description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="scaled shape (PostgreSQL+Redis)")
    parser.add_argument("--only", choices=("ack", "reply"), help="run one of the two")
    parser.add_argument("--seconds", type=float, default=3.0, help="ack: per run")
    parser.add_argument("--rounds", type=int, default=2, help="ack: interleaved runs, best kept")
    parser.add_argument("--clients", type=int, default=64, help="concurrent senders")
    parser.add_argument("--pages", type=int, default=5, help="reply: Pages (300 sends/s each)")
    parser.add_argument("--users", type=int, default=200, help="reply: people per Page")
    parser.add_argument("--messages", type=int, default=5000, help="reply: messages per run")
    parser.add_argument(
        "--rate",
        type=float,
        action="append",
        help="reply: paced msg/s (repeat for several runs; default 1000)",
    )
    parser.add_argument("--paced-only", action="store_true", help="reply: skip the flat-out run")
    parser.add_argument("--batch", type=int, help="reply: CHATCART_WORKER_BATCH_SIZE")
    parser.add_argument(
        "--split",
        action="store_true",
        help="reply: the worker loops in a second process (wake-ups over Redis)",
    )
    parser.add_argument("--serve", choices=("bare", "chatcart", "worker"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--settings", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve_child(args.serve, args.port, args.settings, args.worker)
        return
    try:
        import uvloop  # uvicorn[standard] brings it: the load generator gets the same loop
    except ImportError:  # pragma: no cover
        asyncio.run(main(args))
    else:
        uvloop.run(main(args))


if __name__ == "__main__":
    run(sys.argv[1:])
