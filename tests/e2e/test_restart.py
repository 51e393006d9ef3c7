"""The app is killed between a message and its processing: after the restart the reply
still arrives, exactly once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from chatcart.models import InboundEvent, OutboundMessage
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop
from tests.helpers.servers import ServerProcess
from tests.helpers.widget import Visitor


async def test_reply_arrives_once_after_a_crash_before_processing(
    runtime: Runtime, tmp_path: Path
) -> None:
    shop = await make_shop(runtime)
    log = tmp_path / "server.log"

    # 1. Web only (no worker): the message is recorded and acknowledged, nobody answers.
    web_only = ServerProcess(runtime.settings, worker=False, log=log).start()
    try:
        host = web_only.base_url.removeprefix("http://")
        visitor = await Visitor(host, shop.widget_key).connect()
        client_id = await visitor.say("xin chào, shop ơi")
        assert (await visitor.expect("ack"))["duplicate"] is False
        assert [f for f in await visitor.frames_for(1.0) if f["type"] == "message"] == []
    finally:
        web_only.kill()  # SIGKILL: the process dies with the event unprocessed
    async with runtime.sessions() as session:
        event = await session.scalar(select(InboundEvent))
        assert event is not None and event.status == "pending"

    # 2. The full app comes back; the browser reconnects with its token.
    full = ServerProcess(runtime.settings, worker=True, log=log).start()
    try:
        host = full.base_url.removeprefix("http://")
        back = await Visitor(host, shop.widget_key, token=visitor.token).connect()
        seen = [m for m in back.history if m["direction"] == "out"]
        frames = await back.frames_for(3.0)
        seen += [f["message"] for f in frames if f["type"] == "message"]
        # The history may already hold the reply, the push may bring it, or both: the
        # widget keys by message id, and there must be exactly one reply id.
        assert len({m["id"] for m in seen}) == 1, seen
        assert [m["client_id"] for m in back.history if m["direction"] == "in"] == [client_id]
        await back.close()
    finally:
        full.stop()
    async with runtime.sessions() as session:
        statuses = (await session.scalars(select(OutboundMessage.status))).all()
        event = await session.scalar(select(InboundEvent))
    assert statuses == ["sent"]
    assert event is not None and event.status == "done"
