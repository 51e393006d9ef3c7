"""Webhook ingress for Meta channels: verify -> record -> 200 (DESIGN.md §5).

Nothing is processed here. The signature is checked over the raw bytes in constant time;
the POST body is recorded as received (bytes) and split into its items, each recorded once
(a redelivery is a no-op), all through a group commit, before the 200; then the worker is
woken. Everything that is refused is logged with why. `fast_path` serves these POSTs
straight from ASGI, ahead of the app's middleware and router.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from chatcart.channels import service as channels
from chatcart.channels.base import AccountRef
from chatcart.channels.errors import ChannelAccountNotFound
from chatcart.channels.meta.signature import verify_signature
from chatcart.channels.meta.webhook import WebhookError, split_webhook
from chatcart.channels.schemas import NewInbound, RawDelivery
from chatcart.kit.batcher import GroupCommitter, Take
from chatcart.kit.crypto import same
from chatcart.kit.db import transaction
from chatcart.kit.sqlite_driver import statements_inline
from chatcart.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks", include_in_schema=False)

MAX_BODY_BYTES = 1_000_000  # Meta batches up to 1,000 updates; far below a megabyte each
_OBJECTS: dict[str, Literal["page", "instagram"]] = {"messenger": "page", "instagram": "instagram"}
_CACHE_SECONDS = 30.0


@dataclass
class _Cached:
    account: AccountRef | None
    workspace_id: int
    status: str
    until: float


class Ingress:
    """Per-process state of the webhook door: an account cache and the group committer."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self._accounts: dict[int, _Cached] = {}
        self._loading: dict[int, asyncio.Future[_Cached]] = {}
        self.committer: GroupCommitter[RawDelivery] = GroupCommitter(self._flush)

    async def _flush(self, take: Take[RawDelivery]) -> None:
        with statements_inline():  # a short write: see kit/sqlite_driver
            async with transaction(self.rt.sessions) as session:
                # Wait for the connection first (SQLite's one, held by the worker's batch
                # meanwhile): the webhooks that come in until then are written now too.
                await session.connection()
                await channels.record_deliveries(session, take())
        await self.rt.bus.publish("wake:inbound", {})

    async def account(self, account_id: int) -> _Cached:
        """The account with its decrypted secrets, cached briefly (a webhook burst would
        otherwise read and decrypt it once per request). When the entry is due, one read
        refreshes it: the requests meanwhile keep the entry they have (or, on first use,
        wait for that one read) instead of each reading the account again."""
        cached = self._accounts.get(account_id)
        if cached is not None and cached.until > time.monotonic():
            return cached
        loading = self._loading.get(account_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(account_id))
            self._loading[account_id] = loading
            loading.add_done_callback(lambda _: self._loading.pop(account_id, None))
        if cached is not None:
            return cached
        return await asyncio.shield(loading)

    async def _load(self, account_id: int) -> _Cached:
        async with self.rt.sessions() as session:
            try:
                out, found = await channels.account_with_ref(session, self.rt.secrets, account_id)
                ref: AccountRef | None = found
                workspace_id, status = out.workspace_id, out.status
            except ChannelAccountNotFound:
                ref, workspace_id, status = None, 0, "missing"
        cached = _Cached(ref, workspace_id, status, time.monotonic() + _CACHE_SECONDS)
        self._accounts[account_id] = cached
        return cached

    def clear(self) -> None:
        """Credentials changed (reconnect): read every account afresh."""
        self._accounts.clear()
        self._loading.clear()


def ingress_of(request: Request) -> Ingress:
    ingress: Ingress | None = getattr(request.app.state, "ingress", None)
    if ingress is None:
        ingress = Ingress(request.app.state.runtime)
        request.app.state.ingress = ingress
    return ingress


async def _known(request: Request, kind: str, account_id: int) -> _Cached | None:
    if kind not in _OBJECTS:
        return None
    cached = await ingress_of(request).account(account_id)
    if cached.account is None or cached.account.kind != kind:
        return None
    return cached


@router.get("/{kind}/{account_id}")
async def verify_subscription(kind: str, account_id: int, request: Request) -> Response:
    """Meta's subscription check: echo hub.challenge when hub.verify_token matches."""
    cached = await _known(request, kind, account_id)
    if cached is None or cached.account is None:
        log.warning("webhook verify: unknown %s account %s", kind, account_id)
        return PlainTextResponse("unknown channel account", status_code=404)
    params = request.query_params
    expected = cached.account.credentials.get("verify_token", "")
    given = params.get("hub.verify_token", "")
    if params.get("hub.mode") != "subscribe" or not expected or not same(expected, given):
        log.warning("webhook verify: wrong verify token for %s account %s", kind, account_id)
        return PlainTextResponse("verify token does not match", status_code=403)
    return PlainTextResponse(params.get("hub.challenge", ""))


Answer = tuple[int, str]
HeaderOf = Callable[[str], str | None]
ReadBody = Callable[[], Awaitable[bytes | None]]  # None: longer than MAX_BODY_BYTES


async def accept(
    ingress: Ingress, kind: str, raw_account_id: str, header: HeaderOf, read_body: ReadBody
) -> Answer:
    """The POST door, shared by the route and the ASGI fast path: refuse what is not ours or
    not signed; record the raw body and its items (group commit); then answer 200."""
    try:
        account_id = int(raw_account_id)
    except ValueError:
        return 404, "unknown channel account"
    cached = await ingress.account(account_id) if kind in _OBJECTS else None
    if cached is None or cached.account is None or cached.account.kind != kind:
        log.warning("webhook: unknown %s account %s", kind, raw_account_id)
        return 404, "unknown channel account"
    account = cached.account
    declared = header("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        log.warning("webhook: %s account %s: body of %s bytes refused", kind, account_id, declared)
        return 413, "body too large"
    body = await read_body()
    if body is None:
        log.warning("webhook: %s account %s: body over %s bytes", kind, account_id, MAX_BODY_BYTES)
        return 413, "body too large"
    signature = header("x-hub-signature-256")
    if not signature:
        log.warning("webhook: %s account %s: no X-Hub-Signature-256", kind, account_id)
        return 401, "signature missing"
    if not verify_signature(account.credentials.get("app_secret", ""), body, signature):
        log.warning("webhook: %s account %s: signature does not match", kind, account_id)
        return 403, "signature does not match"
    try:
        batch = split_webhook(body, _OBJECTS[kind])
    except WebhookError as exc:
        # Signed by Meta yet unreadable: keep it (failed) so it can be looked at, then say so.
        log.warning("webhook: %s account %s: %s", kind, account_id, exc.reason)
        digest = hashlib.sha256(body).hexdigest()
        failed = NewInbound(
            workspace_id=cached.workspace_id,
            channel_account_id=account.id,
            external_id=f"bad:{digest}",
            body=body.decode("utf-8", errors="replace"),
            status="failed",
            error=f"webhook: {exc.reason}",
        )
        await ingress.committer.submit(
            [RawDelivery(cached.workspace_id, account.id, body, [failed], f"webhook: {exc.reason}")]
        )
        return exc.status, exc.reason
    page_id = account.settings.get("page_id") if kind == "instagram" else None
    ours = {account.external_id, page_id} - {None}
    events = []
    for item in batch.items:
        if item.page_id not in ours:
            log.warning(
                "webhook: %s account %s: item for page %s, which this account is not; skipped",
                kind,
                account_id,
                item.page_id,
            )
            continue
        events.append(
            NewInbound(
                workspace_id=cached.workspace_id,
                channel_account_id=account.id,
                external_id=item.external_id,
                sender_external_id=item.sender_id,
                body=item.body.decode("utf-8"),
            )
        )
    await ingress.committer.submit([RawDelivery(cached.workspace_id, account.id, body, events)])
    return 200, "EVENT_RECEIVED"


async def receive(request: Request) -> Response:
    """The POST route (what the fast path below falls back to when it is not in front)."""

    async def read_body() -> bytes | None:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    status, text = await accept(
        ingress_of(request),
        request.path_params["kind"],
        request.path_params["account_id"],
        request.headers.get,
        read_body,
    )
    return PlainTextResponse(text, status_code=status)


router.add_route(
    router.prefix + "/{kind}/{account_id}", receive, methods=["POST"], include_in_schema=False
)


# ---- the fast path -------------------------------------------------------------------------

_PATH = re.compile(r"^/webhooks/(messenger|instagram)/([^/]+)$")


async def fast_path(ingress: Ingress, scope: Scope, receive_: Receive, send: Send) -> bool:
    """Serve a webhook POST straight from ASGI, before the app's middleware and router: the
    busiest door does only its own work. False when the request is not a webhook POST."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    found = _PATH.match(scope["path"])
    if found is None:
        return False
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        if key in ("content-length", "x-hub-signature-256"):
            headers[key] = value.decode("latin-1")
    disconnected = False

    async def read_body() -> bytes | None:
        nonlocal disconnected
        chunks, size, more = [], 0, True
        while more:
            message = await receive_()
            if message["type"] == "http.disconnect":
                disconnected = True
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    try:
        status, text = await accept(ingress, found.group(1), found.group(2), headers.get, read_body)
    except Exception:  # what ServerErrorMiddleware would do: log, 500 (Meta retries)
        log.exception("webhook %s failed", scope["path"])
        status, text = 500, "Internal Server Error"
    if disconnected:
        return True
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return True
