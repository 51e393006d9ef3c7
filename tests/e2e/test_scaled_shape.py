"""The scaled shape: web processes without workers, workers without web, Redis between them."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from chatcart.models import OutboundMessage
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop
from tests.helpers.servers import ServerProcess, WorkerProcess
from tests.helpers.widget import Visitor

# Redis is part of the scaled shape whatever the database; `make test` always runs it.
REDIS_URL = os.environ.get("CHATCART_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


async def test_two_web_processes_and_two_workers(runtime: Runtime, tmp_path: Path) -> None:
    shop = await make_shop(runtime)
    settings = runtime.settings.model_copy(update={"redis_url": REDIS_URL})
    log = tmp_path / "processes.log"
    webs = [ServerProcess(settings, worker=False, log=log).start() for _ in range(2)]
    workers = [WorkerProcess(settings, log=log).start() for _ in range(2)]
    try:
        visitors = []
        for web in webs:
            visitor = await Visitor(web.base_url.removeprefix("http://"), shop.widget_key).connect()
            visitors.append(visitor)
        for n, visitor in enumerate(visitors):
            await visitor.say(f"xin chào từ web {n}")
        for visitor in visitors:
            # The reply is sent by some worker process and pushed through Redis to the web
            # process that holds this visitor's socket.
            reply = (await visitor.expect("message", timeout=20))["message"]
            assert reply["text"].startswith("Xin chào")
            await visitor.close()
    finally:
        for process in [*webs, *workers]:
            process.stop()
    async with runtime.sessions() as session:
        statuses = (await session.scalars(select(OutboundMessage.status))).all()
    assert statuses == ["sent", "sent"]
    assert "worker" in log.read_text() and "running" in log.read_text()
