"""Webhook delivery: envelope, exact bytes, signature, POST (platforms.md 1.4, 2.5, 3).

Body bytes are encoded the way Meta sends them: ASCII-only JSON with non-ASCII characters as
`\\u00e1`-style escapes and `/` as `\\/` (1.4: "the payload as sent uses escaped unicode"), so a
receiver that re-serialises the JSON before checking the HMAC fails here as it would in
production. Headers: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, bytes)>` plus
the legacy `X-Hub-Signature: sha1=...` (1.4 "still sent by some products").
Switches: `bad_signature` (HMAC with a wrong key), `no_signature` (no signature headers),
`duplicate=n` (the same bytes POSTed n times in a row, 1.4 "duplicates ... are possible").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

from chatcart.kit.crypto import hmac_sha256_hex
from chatcart.sandbox.graph.model import Account


@dataclass
class WebhookEvent:
    """One event, built but not yet delivered; `apply` records its effect on the state
    (interaction clock, comment, token) and runs just before the POST."""

    account: Account
    kind: str  # message, postback, referral, optin, delivery, read, echo, comment, ...
    field: Literal["messaging", "changes"]
    item: dict[str, Any]
    entry_time: int  # ms for messaging entries; s for feed/comment changes (2.6 example)
    ref: str | None = None  # mid, comment id, token: what a test wants back
    apply: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Delivery:
    status: int | None  # None: the callback could not be reached
    body: bytes = b""
    error: str | None = None


@dataclass
class Emission:
    url: str
    body: bytes
    payload: dict[str, Any]
    headers: dict[str, str]
    events: list[WebhookEvent]
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def statuses(self) -> list[int | None]:
        return [d.status for d in self.deliveries]

    @property
    def status(self) -> int | None:
        return self.deliveries[0].status if self.deliveries else None

    @property
    def refs(self) -> list[str | None]:
        return [e.ref for e in self.events]

    @property
    def ref(self) -> str | None:
        return self.events[0].ref if self.events else None

    # Readable aliases for the single-event helpers.
    mid = ref
    comment_id = ref
    token = ref

    def summary(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "payload": self.payload,
            "body": self.body.decode("ascii"),
            "headers": self.headers,
            "statuses": self.statuses,
            "errors": [d.error for d in self.deliveries if d.error],
            "refs": self.refs,
        }


def encode(payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def envelope(events: Sequence[WebhookEvent]) -> dict[str, Any]:
    """`{"object", "entry": [{"id", "time", "messaging"|"changes": [item]}]}`, one entry per
    event (2.5: "entry[].messaging carries one event")."""
    if not events:
        raise ValueError("nothing to emit")
    first = events[0].account
    for event in events[1:]:
        acc = event.account
        if (acc.webhook_object, acc.app_secret, acc.callback_url) != (
            first.webhook_object,
            first.app_secret,
            first.callback_url,
        ):
            raise ValueError("a batch must share object, app secret and callback URL")
    entries = [{"id": e.account.id, "time": e.entry_time, e.field: [e.item]} for e in events]
    return {"object": first.webhook_object, "entry": entries}


def signature_headers(body: bytes, secret: str, *, bad: bool, absent: bool) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
    if absent:
        return headers
    key = (secret + "-wrong") if bad else secret
    sha1 = hmac.new(key.encode("utf-8"), body, hashlib.sha1).hexdigest()
    headers["X-Hub-Signature"] = f"sha1={sha1}"
    headers["X-Hub-Signature-256"] = f"sha256={hmac_sha256_hex(key, body)}"
    return headers


async def post(
    url: str, body: bytes, headers: dict[str, str], *, times: int, timeout_seconds: float
) -> list[Delivery]:
    results: list[Delivery] = []
    client_timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        for _ in range(times):
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    results.append(Delivery(resp.status, await resp.read()))
            except (aiohttp.ClientError, TimeoutError) as exc:
                results.append(Delivery(None, error=f"{type(exc).__name__}: {exc}"))
    return results
