"""Servers for tests: uvicorn in the test's own event loop, or a real `chatcart serve`
process that a test can kill (restart tests, browser tests)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from chatcart.config import Settings
from chatcart.main import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def live_server(
    settings: Settings, *, run_worker: bool = True, port: int | None = None
) -> AsyncIterator[str]:
    """Serve create_app(settings) on a free port inside the running loop."""
    async with serve_app(create_app(settings, run_worker=run_worker), port=port) as host:
        yield host


@asynccontextmanager
async def serve_app(app: Any, *, port: int | None = None) -> AsyncIterator[str]:
    """Serve any ASGI app (the app, a sandbox) on a free port inside the running loop."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        # Generous: on a loaded machine the lifespan's shutdown (worker, engine, Redis) can
        # take seconds, and cutting it short leaves a transaction or a socket open.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=60)


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATCART_")}
    values = {
        "CHATCART_DATABASE_URL": settings.database_url,
        "CHATCART_SECRET_KEY": settings.resolved_secret_key(),
        "CHATCART_DATA_DIR": str(settings.data_dir),
        "CHATCART_WORKER_POLL_SECONDS": str(settings.worker_poll_seconds),
    }
    if settings.database_schema:
        values["CHATCART_DATABASE_SCHEMA"] = settings.database_schema
    if settings.redis_url:
        values["CHATCART_REDIS_URL"] = settings.redis_url
        values["CHATCART_REDIS_PREFIX"] = settings.redis_prefix
    env.update(values)
    return env


class ServerProcess:
    """`python -m chatcart serve` in a child process."""

    def __init__(self, settings: Settings, *, worker: bool = True, log: Path) -> None:
        self.settings = settings
        self.worker = worker
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        args = [sys.executable, "-m", "chatcart", "serve", "--port", str(self.port)]
        if not self.worker:
            args.append("--no-worker")
        env = settings_env(self.settings) | {"CHATCART_BASE_URL": self.base_url}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, like a crash or a pulled plug."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class WorkerProcess:
    """`python -m chatcart worker` in a child process (the scaled shape)."""

    def __init__(self, settings: Settings, *, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chatcart", "worker"],
                env=settings_env(self.settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
