"""Per-account token buckets → 613 (platforms.md 1.3, 2.10, checklist 2.11 #7)."""

from __future__ import annotations

import httpx

from chatcart.sandbox.graph import GraphState, RateLimits
from tests.sandbox.helpers import IG, IG_TOKEN, IGSID, PAGE, error_of, send, text


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_text_bucket_613_then_refills(client: httpx.AsyncClient, state: GraphState) -> None:
    tick = FakeMonotonic()
    state.monotonic = tick
    state.rates = RateLimits(text_per_second=3)
    for _ in range(3):
        assert (await send(client, text())).status_code == 200
    err = error_of(await send(client, text()))
    assert err["code"] == 613
    assert err["message"] == "(#613) Calls to this api have exceeded the rate limit."
    tick.now += 1 / 3  # one token back
    assert (await send(client, text())).status_code == 200
    assert error_of(await send(client, text()))["code"] == 613


async def test_rejected_calls_count_too(client: httpx.AsyncClient, state: GraphState) -> None:
    state.monotonic = FakeMonotonic()
    state.rates = RateLimits(text_per_second=2)
    assert error_of(await send(client, text("nobody")))["code"] == 100
    assert (await send(client, text())).status_code == 200
    assert error_of(await send(client, text()))["code"] == 613


async def test_buckets_are_per_account(client: httpx.AsyncClient, state: GraphState) -> None:
    state.monotonic = FakeMonotonic()
    state.rates = RateLimits(text_per_second=1)
    assert (await send(client, text())).status_code == 200
    assert error_of(await send(client, text()))["code"] == 613
    assert (await send(client, text(IGSID), token=IG_TOKEN, node=IG)).status_code == 200


async def test_unauthenticated_calls_do_not_drain_the_page(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.monotonic = FakeMonotonic()
    state.rates = RateLimits(text_per_second=1)
    for _ in range(3):
        assert error_of(await send(client, text(), token="nope"))["code"] == 190
    assert (await send(client, text())).status_code == 200


async def test_private_replies_per_hour(client: httpx.AsyncClient, state: GraphState) -> None:
    tick = FakeMonotonic()
    state.monotonic = tick
    state.rates = RateLimits(private_replies_per_hour=2)
    for i in range(3):
        state.add_comment(PAGE, f"55_{i}", post_id=f"{PAGE}_55", from_id=f"u{i}", from_name="A B")

    def reply(i: int) -> dict[str, object]:
        return {"recipient": {"comment_id": f"55_{i}"}, "message": {"text": "Shop inbox bạn nhé"}}

    assert (await send(client, reply(0))).status_code == 200
    assert (await send(client, reply(1))).status_code == 200
    assert error_of(await send(client, reply(2)))["code"] == 613
    tick.now += 1800  # half an hour: one private reply back
    assert (await send(client, reply(2))).status_code == 200
