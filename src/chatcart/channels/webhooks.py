"""Webhook ingress for Meta channels: verify -> record -> 200 (DESIGN.md §5).

Nothing is processed here. The signature is checked over the raw bytes in constant time;
a batch is split into its items, each recorded once (a redelivery is a no-op) through a
group commit, and the worker is woken. Everything that is refused is logged with why.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from chatcart.channels import service as channels
from chatcart.channels.base import AccountRef
from chatcart.channels.errors import ChannelAccountNotFound
from chatcart.channels.meta.signature import verify_signature
from chatcart.channels.meta.webhook import WebhookError, split_webhook
from chatcart.channels.schemas import NewInbound
from chatcart.kit.batcher import GroupCommitter
from chatcart.kit.crypto import same
from chatcart.kit.db import transaction
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
        self.committer: GroupCommitter[NewInbound] = GroupCommitter(self._flush)

    async def _flush(self, events: list[NewInbound]) -> None:
        async with transaction(self.rt.sessions) as session:
            await channels.record_inbound_many(session, events)
        await self.rt.bus.publish("wake:inbound", {})

    async def account(self, account_id: int) -> _Cached:
        """The account with its decrypted secrets, cached briefly (a webhook burst would
        otherwise read and decrypt it once per request)."""
        cached = self._accounts.get(account_id)
        if cached is not None and cached.until > time.monotonic():
            return cached
        async with self.rt.sessions() as session:
            try:
                out = await channels.get_account(session, account_id)
                ref: AccountRef | None = await channels.account_ref(
                    session, self.rt.secrets, account_id
                )
                workspace_id, status = out.workspace_id, out.status
            except ChannelAccountNotFound:
                ref, workspace_id, status = None, 0, "missing"
        cached = _Cached(ref, workspace_id, status, time.monotonic() + _CACHE_SECONDS)
        self._accounts[account_id] = cached
        return cached

    def clear(self) -> None:
        """Credentials changed (reconnect): read every account afresh."""
        self._accounts.clear()


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


async def receive(request: Request) -> Response:
    """The POST route, a plain Starlette endpoint: no dependency injection or validation
    layer on the busiest door (it reads its two path parameters itself)."""
    kind = request.path_params["kind"]
    try:
        account_id = int(request.path_params["account_id"])
    except ValueError:
        return PlainTextResponse("unknown channel account", status_code=404)
    cached = await _known(request, kind, account_id)
    if cached is None or cached.account is None:
        log.warning("webhook: unknown %s account %s", kind, account_id)
        return PlainTextResponse("unknown channel account", status_code=404)
    account = cached.account
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        log.warning("webhook: %s account %s: body of %s bytes refused", kind, account_id, declared)
        return PlainTextResponse("body too large", status_code=413)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return PlainTextResponse("body too large", status_code=413)
    signature = request.headers.get("x-hub-signature-256")
    if not signature:
        log.warning("webhook: %s account %s: no X-Hub-Signature-256", kind, account_id)
        return PlainTextResponse("signature missing", status_code=401)
    if not verify_signature(account.credentials.get("app_secret", ""), body, signature):
        log.warning("webhook: %s account %s: signature does not match", kind, account_id)
        return PlainTextResponse("signature does not match", status_code=403)
    ingress = ingress_of(request)
    try:
        batch = split_webhook(body, _OBJECTS[kind])
    except WebhookError as exc:
        # Signed by Meta yet unreadable: keep it (failed) so it can be looked at, then say so.
        log.warning("webhook: %s account %s: %s", kind, account_id, exc.reason)
        digest = hashlib.sha256(body).hexdigest()
        await ingress.committer.submit(
            [
                NewInbound(
                    workspace_id=cached.workspace_id,
                    channel_account_id=account.id,
                    external_id=f"bad:{digest}",
                    body=body.decode("utf-8", errors="replace"),
                    status="failed",
                    error=f"webhook: {exc.reason}",
                )
            ]
        )
        return PlainTextResponse(exc.reason, status_code=exc.status)
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
    if events:
        await ingress.committer.submit(events)
    return PlainTextResponse("EVENT_RECEIVED")


router.add_route(
    router.prefix + "/{kind}/{account_id}", receive, methods=["POST"], include_in_schema=False
)
