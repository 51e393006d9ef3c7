"""Constants and helpers shared by the Graph sandbox tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

PAGE = "100200300"
TOKEN = "EAAG-page-token"
SECRET = "app-secret-1"
PSID = "7001"
IG = "17841400000000001"
IG_TOKEN = "IGQ-ig-token"
IGSID = "9001"
NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)  # before the tag retirement, after 2026-02-10


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200


async def send(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    *,
    token: str | None = TOKEN,
    node: str = PAGE,
    version: str = "v25.0",
) -> httpx.Response:
    params = {"access_token": token} if token else {}
    return await client.post(f"/{version}/{node}/messages", params=params, json=body)


def text(psid: str = PSID, value: str = "Chào bạn", **extra: Any) -> dict[str, Any]:
    return {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {"text": value},
    } | extra


def tagged(tag: str, psid: str = PSID) -> dict[str, Any]:
    return {
        "recipient": {"id": psid},
        "messaging_type": "MESSAGE_TAG",
        "tag": tag,
        "message": {"text": "Đơn hàng của bạn đã được giao"},
    }


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert err["fbtrace_id"]
    assert err["type"]
    return err


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)
