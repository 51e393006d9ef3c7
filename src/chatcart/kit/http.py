"""The only builder of outbound HTTP clients (DESIGN.md §4.6).

One `aiohttp.ClientSession` per platform client, bound to a base URL, with explicit timeouts
and connector limits. Retries are not done here: a failed call is the outbox's decision.
Requests use paths relative to the base URL *without* a leading slash (`"v23.0/1/messages"`),
so a base URL with a path prefix (a sandbox mounted under `/graph/`) keeps its prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class HttpLimits:
    total_seconds: float = 30.0  # the whole request, connect to last byte
    connect_seconds: float = 10.0  # getting a connection from the pool and opening it
    read_seconds: float = 25.0  # between two reads of the socket
    connections: int = 100  # open connections across hosts
    connections_per_host: int = 50
    dns_cache_seconds: int = 300
    # An idle connection is not reused after this long. A server closes its idle ones too
    # (uvicorn after 5 s, others later): a request sent on a connection just as the server
    # closes it fails with "server disconnected" having maybe arrived, and a Graph batch
    # of 50 messages is then lost ("unknown"). Staying under the servers' wait avoids that.
    keepalive_seconds: float = 4.0


def base_url(url: str) -> str:
    """The URL as aiohttp wants a base: absolute, ending in '/'."""
    return url if url.endswith("/") else url + "/"


def create_session(
    url: str,
    *,
    limits: HttpLimits | None = None,
    headers: Mapping[str, str] | None = None,
) -> aiohttp.ClientSession:
    """A session for one platform. Call inside a running event loop; close it with
    `await session.close()` (owners expose that as `aclose()`)."""
    limits = limits or HttpLimits()
    connector = aiohttp.TCPConnector(
        limit=limits.connections,
        limit_per_host=limits.connections_per_host,
        ttl_dns_cache=limits.dns_cache_seconds,
        keepalive_timeout=limits.keepalive_seconds,
    )
    timeout = aiohttp.ClientTimeout(
        total=limits.total_seconds,
        connect=limits.connect_seconds,
        sock_read=limits.read_seconds,
    )
    return aiohttp.ClientSession(
        base_url=base_url(url),
        connector=connector,
        timeout=timeout,
        headers=dict(headers or {}),
        raise_for_status=False,
    )


def create_open_session(*, limits: HttpLimits | None = None) -> aiohttp.ClientSession:
    """A session for URLs that sellers type (bot flows' HTTP steps): no base URL, a short
    timeout, few connections. The caller closes it."""
    limits = limits or HttpLimits(total_seconds=10, connect_seconds=5, read_seconds=10)
    connector = aiohttp.TCPConnector(
        limit=limits.connections,
        limit_per_host=limits.connections_per_host,
        keepalive_timeout=limits.keepalive_seconds,
    )
    timeout = aiohttp.ClientTimeout(
        total=limits.total_seconds, connect=limits.connect_seconds, sock_read=limits.read_seconds
    )
    return aiohttp.ClientSession(connector=connector, timeout=timeout, raise_for_status=False)
