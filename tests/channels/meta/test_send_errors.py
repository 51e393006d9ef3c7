"""Meta error bodies -> SendError outcomes (platforms.md §1.2, §1.3, §2.9), on the wire."""

from __future__ import annotations

import socket
from email.utils import format_datetime
from typing import Any

import orjson
import pytest

from chatcart.channels.base import AccountRef, MessageContent, OutboundEnvelope, SendError
from chatcart.channels.messenger.adapter import MessengerAdapter
from chatcart.channels.meta.errors import retry_after
from chatcart.kit.clock import in_seconds
from chatcart.kit.http import HttpLimits
from tests.channels.meta.support import VERSION, FakeGraph, Reply

PSID = "6873412290051234"
TEXT = OutboundEnvelope(
    idempotency_key="out:1:1", recipient_id=PSID, content=MessageContent(text="Chào bạn")
)


def meta_error(code: int, subcode: int | None = None, message: str = "") -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message or f"(#{code}) Something Meta says",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


async def _send_expecting_error(
    graph: FakeGraph, messenger: MessengerAdapter, account: AccountRef, reply: Reply
) -> SendError:
    graph.answer(reply)
    with pytest.raises(SendError) as caught:
        await messenger.send(account, TEXT)
    return caught.value


@pytest.mark.parametrize(
    ("status", "code", "subcode", "outcome", "expected_code"),
    [
        (400, 10, 2018278, "policy", "10/2018278"),
        (400, 10, 2534022, "policy", "10/2534022"),
        (400, 10, 2018065, "policy", "10/2018065"),
        (400, 551, 1545041, "unreachable", "551/1545041"),
        (400, 551, None, "unreachable", "551"),
        (400, 200, 1545041, "unreachable", "200/1545041"),
        (400, 190, None, "reauth", "190"),
        (401, 190, 463, "reauth", "190/463"),
        (400, 190, 460, "reauth", "190/460"),
        (400, 102, None, "reauth", "102"),
        (400, 4, None, "retry", "4"),
        (400, 17, None, "retry", "17"),
        (400, 32, None, "retry", "32"),
        (400, 613, None, "retry", "613"),
        (400, 80006, None, "retry", "80006"),
        (500, 2, None, "retry", "2"),
        (400, 1200, None, "retry", "1200"),
        (400, 10, 1893063, "retry", "10/1893063"),
        (400, 100, None, "failed", "100"),
        (400, 100, 2018001, "failed", "100/2018001"),
        (400, 100, 2018109, "failed", "100/2018109"),
        (400, 200, 2018028, "failed", "200/2018028"),
        (400, 368, None, "failed", "368"),
        (400, 10, 2018108, "failed", "10/2018108"),
        (403, 10, None, "failed", "10"),
    ],
)
async def test_error_codes(
    graph: FakeGraph,
    messenger: MessengerAdapter,
    page_account: AccountRef,
    status: int,
    code: int,
    subcode: int | None,
    outcome: str,
    expected_code: str,
) -> None:
    body = meta_error(code, subcode)
    error = await _send_expecting_error(
        graph, messenger, page_account, Reply(status=status, body=body)
    )
    assert (error.outcome, error.code) == (outcome, expected_code)
    assert error.message == body["error"]["message"]
    assert error.response == body  # Meta's error body, whole
    assert error.retry_after is None


async def test_retired_tag_is_a_plain_failure(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    body = meta_error(100, message="(#100) Tag POST_PURCHASE_UPDATE is no longer supported")
    error = await _send_expecting_error(
        graph, messenger, page_account, Reply(status=400, body=body)
    )
    assert (error.outcome, error.code) == ("failed", "100")


async def test_retry_after_header(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    error = await _send_expecting_error(
        graph,
        messenger,
        page_account,
        Reply(status=400, body=meta_error(613), headers={"Retry-After": "30"}),
    )
    assert (error.outcome, error.retry_after) == ("retry", 30.0)


async def test_business_use_case_usage_header(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    usage = {
        "104857392011234": [
            {
                "type": "messenger",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 30,
                "estimated_time_to_regain_access": 5,
            }
        ]
    }
    error = await _send_expecting_error(
        graph,
        messenger,
        page_account,
        Reply(
            status=400,
            body=meta_error(80006, message="(#80006) There have been too many messages"),
            headers={"X-Business-Use-Case-Usage": orjson.dumps(usage).decode()},
        ),
    )
    assert (error.outcome, error.code, error.retry_after) == ("retry", "80006", 300.0)


async def test_app_usage_header(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    usage = {
        "call_count": 100,
        "total_time": 40,
        "total_cputime": 20,
        "estimated_time_to_regain_access": 2,
    }
    error = await _send_expecting_error(
        graph,
        messenger,
        page_account,
        Reply(
            status=400, body=meta_error(4), headers={"X-App-Usage": orjson.dumps(usage).decode()}
        ),
    )
    assert error.retry_after == 120.0


async def test_usage_header_without_an_estimate_gives_no_wait(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    usage = {"call_count": 100, "total_time": 40, "total_cputime": 20}
    error = await _send_expecting_error(
        graph,
        messenger,
        page_account,
        Reply(
            status=400, body=meta_error(4), headers={"X-App-Usage": orjson.dumps(usage).decode()}
        ),
    )
    assert (error.outcome, error.retry_after) == ("retry", None)


async def test_http_429_without_a_body(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    error = await _send_expecting_error(
        graph, messenger, page_account, Reply(status=429, raw=b"", headers={"Retry-After": "7"})
    )
    assert (error.outcome, error.code, error.retry_after) == ("retry", "http_429", 7.0)


async def test_http_5xx_without_json(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    error = await _send_expecting_error(
        graph, messenger, page_account, Reply(status=503, raw=b"<html>Service Unavailable</html>")
    )
    assert (error.outcome, error.code) == ("retry", "http_503")
    assert error.response == {"http_status": 503, "text": "<html>Service Unavailable</html>"}


async def test_other_4xx_without_json_fails(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    error = await _send_expecting_error(graph, messenger, page_account, Reply(status=404, raw=b""))
    assert (error.outcome, error.code) == ("failed", "http_404")


async def test_error_object_in_a_200_is_still_an_error(
    graph: FakeGraph, messenger: MessengerAdapter, page_account: AccountRef
) -> None:
    error = await _send_expecting_error(
        graph, messenger, page_account, Reply(status=200, body=meta_error(10, 2018278))
    )
    assert error.outcome == "policy"


async def test_timeout_is_retry(graph: FakeGraph, page_account: AccountRef) -> None:
    adapter = MessengerAdapter(graph.url, VERSION, limits=HttpLimits(total_seconds=0.1))
    graph.answer(Reply(body={"message_id": "late"}, delay=0.5))
    try:
        with pytest.raises(SendError) as caught:
            await adapter.send(page_account, TEXT)
    finally:
        await adapter.aclose()
    assert (caught.value.outcome, caught.value.code) == ("retry", "timeout")


async def test_connection_refused_is_retry(page_account: AccountRef) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = MessengerAdapter(f"http://127.0.0.1:{port}", VERSION)
    try:
        with pytest.raises(SendError) as caught:
            await adapter.send(page_account, TEXT)
    finally:
        await adapter.aclose()
    assert (caught.value.outcome, caught.value.code) == ("retry", "connection")


def test_retry_after_forms() -> None:
    assert retry_after({"retry-after": "12.5"}) == 12.5
    assert retry_after({"Retry-After": "-3"}) == 0.0
    assert retry_after({}) is None
    assert retry_after({"X-App-Usage": "not json"}) is None
    date = format_datetime(in_seconds(120), usegmt=True)
    wait = retry_after({"Retry-After": date})
    assert wait is not None
    assert 100 < wait <= 120
    several = {
        "X-Business-Use-Case-Usage": orjson.dumps(
            {
                "1": [{"type": "messenger", "estimated_time_to_regain_access": 1}],
                "2": [{"type": "pages", "estimated_time_to_regain_access": 9}],
            }
        ).decode()
    }
    assert retry_after(several) == 540.0
