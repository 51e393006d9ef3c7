"""Helpers for the Meta adapter tests: fixture payloads, constants, and a tiny local Graph
API that records every request and answers with scripted Meta responses."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from chatcart.channels.base import AccountRef, InboundEvent
from chatcart.channels.meta.graph import GraphAdapter
from chatcart.channels.meta.webhook import split_webhook

FIXTURES = Path(__file__).parent / "fixtures"
PAGE_ID = "104857392011234"
IG_ID = "17841405309211844"
IG_PAGE_ID = "104857392099999"
PAGE_TOKEN = "EAAGm0PX4ZCpsBAPageTokenForTests"
VERSION = "v23.0"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_all(adapter: GraphAdapter, raw: bytes, account: AccountRef) -> list[InboundEvent]:
    """What the lead's pipeline does: split the POST, record each item, parse each record."""
    batch = split_webhook(raw, adapter.webhook_object)
    return [event for item in batch.items for event in adapter.parse(item.body, account)]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is instead of body
    delay: float = 0.0


class FakeGraph:
    """Records requests; answers from a script, else like a happy Send / Profile API."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Reply] = deque()
        self.url = ""
        self._mids = 0

    def answer(self, *replies: Reply) -> None:
        self.script.extend(replies)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if request.content_type == "application/x-www-form-urlencoded":
            body: Any = dict(await request.post())  # a batch request's form
        else:
            body = orjson.loads(raw) if raw else None
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        reply = self.script.popleft() if self.script else self._default(request, body)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        data = reply.raw if reply.raw is not None else orjson.dumps(reply.body)
        return web.Response(
            status=reply.status,
            body=data,
            headers={"Content-Type": "application/json", **reply.headers},
        )

    def sent_bodies(self) -> list[dict[str, Any]]:
        """The Send API bodies posted, directly or as the calls of batch requests (their
        form fields JSON-decoded where they hold JSON), in order."""
        bodies: list[dict[str, Any]] = []
        for r in self.requests:
            if r.method != "POST" or not isinstance(r.body, dict):
                continue
            if "batch" in r.body:
                bodies.extend(_call_body(call) for call in orjson.loads(r.body["batch"]))
            else:
                bodies.append(r.body)
        return bodies

    def _default(self, request: web.Request, body: Any) -> Reply:
        if request.method == "POST" and isinstance(body, dict) and "batch" in body:
            calls = orjson.loads(body["batch"])
            items = [
                {"code": 200, "body": orjson.dumps(self._sent(_call_body(call))).decode()}
                for call in calls
            ]
            return Reply(body=items)
        if request.method == "POST":
            return Reply(body=self._sent(body or {}))
        return Reply(body={"id": request.path.rsplit("/", 1)[-1]})

    def _sent(self, body: dict[str, Any]) -> dict[str, Any]:
        recipient = body.get("recipient", {})
        self._mids += 1
        answer = {"message_id": f"m_sent_{self._mids}"}
        if "id" in recipient:
            answer["recipient_id"] = recipient["id"]
        return answer


def _call_body(call: dict[str, Any]) -> dict[str, Any]:
    """A batch call's form-encoded body as the direct request's JSON body."""
    fields: dict[str, Any] = dict(parse_qsl(call.get("body") or ""))
    for name in ("recipient", "message"):
        if name in fields:
            fields[name] = orjson.loads(fields[name])
    return fields


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, int(port)
