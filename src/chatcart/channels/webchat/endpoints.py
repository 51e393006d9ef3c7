"""The widget's server side: the script, and the WebSocket that records every message the
visitor sends and pushes every reply back, surviving reloads and server restarts."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import ValidationError

from chatcart.channels import service as channels
from chatcart.channels.schemas import ChannelAccountOut
from chatcart.channels.webchat.adapter import visitor_topic
from chatcart.channels.webchat.frames import Hello, SendText, Typing, WidgetBody, client_frame
from chatcart.contacts import service as contacts
from chatcart.conversations import service as conversations
from chatcart.conversations.schemas import MessageOut
from chatcart.kit import jsonx
from chatcart.kit.clock import utcnow
from chatcart.kit.crypto import random_token
from chatcart.kit.db import transaction
from chatcart.kit.textnorm import nfc
from chatcart.runtime import Runtime

router = APIRouter()
_SCRIPT = Path(__file__).parent / "static" / "widget.js"
HELLO_TIMEOUT = 15.0


@router.get("/widget.js", include_in_schema=False)
async def widget_script() -> FileResponse:
    return FileResponse(
        _SCRIPT,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


def _signer(runtime: Runtime) -> URLSafeSerializer:
    return URLSafeSerializer(runtime.settings.resolved_secret_key(), salt="chatcart.widget.visitor")


def _wire(message: MessageOut) -> dict[str, Any]:
    content = message.content
    return {
        "id": message.id,
        "client_id": message.external_id if message.direction == "in" else None,
        "direction": message.direction,
        "text": message.text,
        "quick_replies": content.get("quick_replies", []),
        "buttons": content.get("buttons", []),
        "cards": content.get("cards", []),
        "attachments": content.get("attachments", []),
        "created_at": message.created_at.isoformat(),
    }


class WidgetSession:
    def __init__(self, ws: WebSocket, runtime: Runtime, account: ChannelAccountOut) -> None:
        self.ws = ws
        self.rt = runtime
        self.account = account
        self.visitor_id = ""
        self.page_url: str | None = None
        self.locale: str | None = None
        self._send_lock = asyncio.Lock()
        self._subscribed = asyncio.Event()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:  # the reply pump and the reader both send
            await self.ws.send_text(jsonx.dumps(frame))

    async def receive(self) -> str | None:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            await self.error("bad_frame", "Frames must be JSON text.")
        return text

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def handshake(self) -> None:
        """Wait for a valid hello; answer with the visitor's token."""
        while True:
            raw = await asyncio.wait_for(self.receive(), timeout=HELLO_TIMEOUT)
            frame = await self.parse(raw) if raw is not None else None
            if isinstance(frame, Hello):
                break
            if frame is not None:
                await self.error("hello_first", "Send a hello frame first.")
        signer = _signer(self.rt)
        visitor = None
        if frame.token:
            with contextlib.suppress(BadSignature):
                data = signer.loads(frame.token)
                if isinstance(data, list) and len(data) == 2 and data[0] == self.account.id:
                    visitor = str(data[1])
        self.visitor_id = visitor or "v_" + random_token(16)
        self.page_url, self.locale = frame.page_url, frame.locale
        await self.send(
            {
                "type": "welcome",
                "token": signer.dumps([self.account.id, self.visitor_id]),
                "visitor_id": self.visitor_id,
                "max_chars": self.rt.settings.widget_max_message_chars,
            }
        )

    async def history(self) -> list[dict[str, Any]]:
        async with self.rt.sessions() as session:
            identity = await contacts.find_identity(session, self.account.id, self.visitor_id)
            shown: list[dict[str, Any]] = []
            if identity is not None:
                for message in await conversations.identity_messages(
                    session, self.account.workspace_id, identity.id
                ):
                    # Queued replies too: the push may have beaten the status update.
                    if message.status not in {"failed", "cancelled"}:
                        shown.append(_wire(message))
            # Recorded but not yet processed (e.g. the worker is down): still the visitor's.
            seen = {m["client_id"] for m in shown if m["client_id"]}
            for body in await channels.pending_bodies_from(
                session, self.account.id, self.visitor_id
            ):
                data = WidgetBody.model_validate_json(body)
                if data.client_id not in seen:
                    shown.append(
                        {
                            "id": None,
                            "client_id": data.client_id,
                            "direction": "in",
                            "text": data.text,
                            "quick_replies": [],
                            "buttons": [],
                            "attachments": [],
                            "created_at": data.sent_at,
                        }
                    )
        return shown

    async def parse(self, raw: str) -> Hello | SendText | Typing | None:
        try:
            return client_frame.validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            await self.error("bad_frame", f"{where}: {first['msg']}" if where else first["msg"])
            return None

    async def on_message(self, frame: SendText) -> None:
        text = nfc(frame.text).strip()
        limit = self.rt.settings.widget_max_message_chars
        if not text:
            await self.error("empty", "The message is empty.", client_id=frame.client_id)
            return
        if len(text) > limit:
            await self.error(
                "too_long",
                f"The message has {len(text)} characters; the limit is {limit}.",
                client_id=frame.client_id,
                limit=limit,
            )
            return
        body = WidgetBody(
            visitor_id=self.visitor_id,
            client_id=frame.client_id,
            text=text,
            payload=frame.payload,
            page_url=self.page_url,
            locale=self.locale,
            sent_at=utcnow().isoformat(),
        )
        async with transaction(self.rt.sessions) as session:
            recorded = await channels.record_inbound(
                session,
                self.account,
                external_id=frame.client_id,
                body=body.model_dump_json().encode("utf-8"),
                sender_external_id=self.visitor_id,
            )
        await self.rt.bus.publish("wake:inbound", {})
        await self.send(
            {"type": "ack", "client_id": frame.client_id, "duplicate": not recorded.created}
        )
        if recorded.created:
            await self.send({"type": "typing", "on": True})

    async def on_typing(self, frame: Typing) -> None:
        await self.rt.bus.publish(
            f"workspace:{self.account.workspace_id}",
            {
                "type": "visitor_typing",
                "channel_account_id": self.account.id,
                "visitor_id": self.visitor_id,
                "on": frame.on,
            },
        )

    async def pump_replies(self) -> None:
        async with self.rt.bus.subscribe(visitor_topic(self.account.id, self.visitor_id)) as queue:
            self._subscribed.set()
            while True:
                event = await queue.get()
                event.pop("topic", None)
                await self.send(event)
                if event.get("type") == "message":
                    await self.send({"type": "typing", "on": False})

    async def run(self) -> None:
        await self.handshake()
        pump = asyncio.create_task(self.pump_replies())
        try:
            # Subscribe before reading the transcript, so no reply falls between the two;
            # the widget drops the repeats by message id.
            await self._subscribed.wait()
            await self.send({"type": "history", "messages": await self.history()})
            while True:
                raw = await self.receive()
                frame = await self.parse(raw) if raw is not None else None
                if isinstance(frame, SendText):
                    await self.on_message(frame)
                elif isinstance(frame, Typing):
                    await self.on_typing(frame)
                elif isinstance(frame, Hello):
                    await self.error("already_hello", "This connection already said hello.")
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump


@router.websocket("/widget/ws")
async def widget_socket(ws: WebSocket, key: str = "") -> None:
    runtime: Runtime = ws.app.state.runtime
    async with runtime.sessions() as session:
        account = await channels.find_account(session, "webchat", key)
    await ws.accept()
    if account is None or account.status != "active":
        # Closed after accepting, so the browser sees 4404 and stops reconnecting.
        await ws.close(code=4404, reason="unknown widget key")
        return
    with contextlib.suppress(WebSocketDisconnect, TimeoutError):
        await WidgetSession(ws, runtime, account).run()
