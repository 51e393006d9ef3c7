"""A scripted widget visitor over a real WebSocket."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection


class Visitor:
    def __init__(self, host: str, key: str, token: str | None = None) -> None:
        self.url = f"ws://{host}/widget/ws?key={key}"
        self.token = token
        self.ws: ClientConnection | None = None
        self.welcome: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self.seen: set[int] = set()  # ids of the shop's messages already returned

    async def connect(self, page_url: str = "https://shop.example/demo") -> Visitor:
        self.ws = await websockets.connect(self.url)
        await self.send({"type": "hello", "token": self.token, "page_url": page_url})
        self.welcome = await self.expect("welcome")
        self.token = self.welcome["token"]
        self.history = (await self.expect("history"))["messages"]
        return self

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def send(self, frame: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    async def say(self, text: str, client_id: str | None = None) -> str:
        client_id = client_id or uuid.uuid4().hex
        await self.send({"type": "message", "client_id": client_id, "text": text})
        return client_id

    async def tap(self, title: str, payload: str) -> str:
        """A quick reply or button tapped: its title as the text, with its payload."""
        client_id = uuid.uuid4().hex
        await self.send(
            {"type": "message", "client_id": client_id, "text": title, "payload": payload}
        )
        return client_id

    async def replies_until(
        self, last: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """The shop's messages (each once, by id) up to the first one `last` accepts."""
        out = []
        while True:
            message = (await self.expect("message", timeout))["message"]
            if message["id"] in self.seen:
                continue
            self.seen.add(message["id"])
            out.append(message)
            if last(message):
                return out

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        assert self.ws is not None
        frame: dict[str, Any] = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return frame

    async def expect(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame of this type (others before it are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if frame["type"] == kind:
                return frame

    async def frames_for(self, seconds: float) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds` (to prove something does NOT arrive)."""
        frames = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                frames.append(await self.recv(left))
            except TimeoutError:
                break
        return frames
