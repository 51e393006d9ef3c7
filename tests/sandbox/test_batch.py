"""Graph batch requests: up to 50 calls, each answered exactly as the direct call would be."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from chatcart.sandbox.graph import GraphState, RateLimits
from tests.sandbox.helpers import NOW, PAGE, PSID, TOKEN, ago, error_of, send, tagged, text


def call(body: dict[str, Any], *, node: str = PAGE, version: str = "v25.0/") -> dict[str, str]:
    form = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in body.items()}
    return {"method": "POST", "relative_url": f"{version}{node}/messages", "body": urlencode(form)}


async def batch(
    client: httpx.AsyncClient,
    calls: list[Any],
    *,
    token: str | None = TOKEN,
    path: str = "/v25.0/",
    **extra: str,
) -> httpx.Response:
    form = {"batch": orjson.dumps(calls).decode(), **extra}
    if token:
        form["access_token"] = token
    return await client.post(path, data=form)


def answers(response: httpx.Response) -> list[tuple[int, dict[str, Any]]]:
    assert response.status_code == 200, response.text
    items = response.json()
    return [(item["code"], orjson.loads(item["body"])) for item in items]


async def test_a_batch_of_50_sends_each_in_order(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    for n in range(50):
        state.add_user(PAGE, f"80{n:02d}", first_name="Khách", last_interaction_at=ago(hours=1))
    calls = [call(text(f"80{n:02d}", f"Chào {n}")) for n in range(50)]
    for path in ("/v25.0/", "/"):
        got = answers(await batch(client, calls, path=path))
        assert [code for code, _ in got] == [200] * 50
        assert [body["recipient_id"] for _, body in got] == [f"80{n:02d}" for n in range(50)]
    accepted = [s for s in state.sends(PAGE) if s.accepted]
    assert len(accepted) == 100
    assert accepted[0].request["message"] == {"text": "Chào 0"}
    assert accepted[0].path == f"/v25.0/{PAGE}/messages"


async def test_more_than_50_calls_are_refused_whole(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    response = await batch(client, [call(text())] * 51)
    assert response.status_code == 400
    err = error_of(response)
    assert err["code"] == 1
    assert err["type"] == "GraphBatchException"
    assert err["message"] == "Too many requests in batch message. Maximum batch size is 50"
    assert state.sends(PAGE) == []  # nothing was sent


async def test_each_call_gets_the_error_of_the_direct_request(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.add_user(PAGE, "7002", first_name="Hoa", last_interaction_at=ago(hours=30))
    bodies = [
        text(),  # fine
        text("999999"),  # unknown PSID
        text("7002"),  # window closed
        tagged("CONFIRMED_EVENT_UPDATE"),  # a tag (still in force before 2026-04-27)
        {"recipient": {"id": PSID}, "message": {"text": "no messaging_type"}},
    ]
    got = answers(await batch(client, [call(b) for b in bodies]))
    for body, (code, answer) in zip(bodies, got, strict=True):
        direct = await send(client, body)
        assert code == direct.status_code
        if "error" in answer:
            mine, theirs = answer["error"], direct.json()["error"]
            assert {k: v for k, v in mine.items() if k != "fbtrace_id"} == {
                k: v for k, v in theirs.items() if k != "fbtrace_id"
            }
        else:
            assert set(answer) == set(direct.json()) == {"recipient_id", "message_id"}
    assert [code for code, _ in got] == [200, 400, 400, 200, 400]
    assert got[1][1]["error"]["error_subcode"] == 2018001
    assert got[2][1]["error"]["error_subcode"] == 2018278


async def test_the_window_edge_on_both_sides(client: httpx.AsyncClient, state: GraphState) -> None:
    state.add_user(PAGE, "7101", last_interaction_at=NOW - timedelta(hours=24))
    state.add_user(PAGE, "7102", last_interaction_at=NOW - timedelta(hours=24, seconds=1))
    got = answers(await batch(client, [call(text("7101")), call(text("7102"))]))
    assert got[0][0] == 200  # exactly 24 hours: still inside
    assert got[1][0] == 400
    assert got[1][1]["error"]["code"] == 10
    assert got[1][1]["error"]["error_subcode"] == 2018278


async def test_tokens_per_call_and_for_the_batch(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    missing = await batch(client, [call(text())], token=None)
    assert missing.status_code == 400
    assert error_of(missing)["code"] == 104
    bad = call(text())
    bad["body"] += "&access_token=not-a-token"
    got = answers(await batch(client, [bad, call(text())]))
    assert got[0][1]["error"]["code"] == 190  # the call's own token wins
    assert got[1][0] == 200
    state.revoked_tokens.add(TOKEN)
    ((code, body),) = answers(await batch(client, [call(text())]))
    assert (code, body["error"]["code"], body["error"]["error_subcode"]) == (400, 190, 460)


async def test_rate_limits_count_every_call(client: httpx.AsyncClient, state: GraphState) -> None:
    state.rates = RateLimits(text_per_second=3)
    got = answers(await batch(client, [call(text())] * 5))
    assert [code for code, _ in got] == [200, 200, 200, 400, 400]
    assert got[3][1]["error"]["code"] == 613


async def test_malformed_batches_and_calls(client: httpx.AsyncClient, state: GraphState) -> None:
    for raw in ("not json", "[]", "{}"):
        response = await client.post("/v25.0/", data={"batch": raw, "access_token": TOKEN})
        assert response.status_code == 400
        assert error_of(response)["code"] == 100
    calls: list[Any] = [
        "a string",
        {"method": "DELETE", "relative_url": f"{PAGE}/messages"},
        {"method": "POST", "relative_url": f"{PAGE}/messages", "body": {"recipient": PSID}},
        {"method": "POST", "relative_url": f"{PAGE}/nowhere", "body": ""},
    ]
    got = answers(await batch(client, calls))
    assert [body["error"]["code"] for _, body in got] == [100, 100, 100, 2500]


async def test_headers_can_be_left_out(client: httpx.AsyncClient, state: GraphState) -> None:
    with_headers = (await batch(client, [call(text())])).json()
    assert {"name": "Content-Type", "value": "application/json; charset=UTF-8"} in with_headers[0][
        "headers"
    ]
    without = (await batch(client, [call(text())], include_headers="false")).json()
    assert "headers" not in without[0]
    get = {"method": "GET", "relative_url": f"v25.0/{PSID}?fields=first_name"}
    ((code, body),) = answers(await batch(client, [get]))
    assert (code, body["first_name"]) == (200, "Lan")


async def test_sender_actions_in_a_batch_are_checked_as_direct_ones(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    action = {"recipient": {"id": PSID}, "sender_action": "typing_on"}
    calls = [
        call(action),
        call(text(sender_action="typing_on")),  # with a message: refused, as directly
        call({"recipient": {"id": PSID}, "sender_action": "typing"}),
        call({"recipient": {"user_ref": "ref-1"}, "sender_action": "mark_seen"}),
    ]
    got = answers(await batch(client, calls))
    assert got[0] == (200, {"recipient_id": PSID})
    assert [(code, body["error"]["code"]) for code, body in got[1:]] == [(400, 100)] * 3
    (accepted,) = [s for s in state.sends(PAGE) if s.accepted]
    assert accepted.sender_action == "typing_on"
