"""The I/O of an HTTP step, done by the flows worker outside any transaction and outside
the pure runtime: a signed request with a timeout, its answer read as JSON (at most 1 MB).

Signature: X-Chatcart-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"> with the
flow's signing secret, X-Chatcart-Timestamp: <unix seconds> (refuse old ones: no replays).
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from chatcart.flows.schemas import HttpAction, HttpResult
from chatcart.kit import jsonx
from chatcart.kit.crypto import hmac_sha256_hex
from chatcart.kit.http import create_open_session

log = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 1_000_000


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac_sha256_hex(secret, timestamp.encode() + b"." + body)


async def call(
    action: HttpAction, secret: str, session: aiohttp.ClientSession | None = None
) -> HttpResult:
    body = b"" if action.method == "GET" else jsonx.dumps(action.body).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "chatcart-flows/1",
        "X-Chatcart-Timestamp": timestamp,
        "X-Chatcart-Signature": signature(secret, timestamp, body),
    }
    own = session is None
    client = session or create_open_session()
    try:
        async with asyncio.timeout(action.timeout_seconds):
            async with client.request(
                action.method, action.url, data=body or None, headers=headers
            ) as response:
                raw = await response.content.read(MAX_ANSWER_BYTES + 1)
                status = response.status
    except TimeoutError:
        return _failed(action, f"no answer within {action.timeout_seconds:g}s")
    except (aiohttp.ClientError, ValueError, OSError) as exc:
        return _failed(action, f"{type(exc).__name__}: {exc}")
    finally:
        if own:
            await client.close()
    if len(raw) > MAX_ANSWER_BYTES:
        return _failed(action, "the answer is larger than 1 MB", status)
    try:
        data = jsonx.loads(raw) if raw else None
    except ValueError:
        return _failed(action, "the answer is not JSON", status)
    if not 200 <= status < 300:
        return _failed(action, f"HTTP {status}", status, data)
    return HttpResult(status=status, data=data)


def _failed(
    action: HttpAction, error: str, status: int | None = None, data: object = None
) -> HttpResult:
    log.warning("flow HTTP step %s %s failed: %s", action.method, action.url, error)
    return HttpResult(status=status, data=data, error=error)
