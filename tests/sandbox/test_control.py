"""The control API under /_sandbox/: set up pages and users, move the clock, toggle
features, read the send log, make users act over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from chatcart.sandbox.graph import GraphState, create_graph_app
from tests.sandbox.helpers import Receiver

PAGE = "555000"
TOKEN = "tok-555"
SECRET = "sec-555"


@pytest.fixture
async def bare() -> AsyncIterator[tuple[GraphState, httpx.AsyncClient]]:
    state = GraphState()
    transport = httpx.ASGITransport(app=create_graph_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        yield state, http


async def setup_page(http: httpx.AsyncClient, callback: str | None = None) -> None:
    page = {
        "id": PAGE,
        "token": TOKEN,
        "app_secret": SECRET,
        "name": "Shop",
        "callback_url": callback,
    }
    assert (await http.post("/_sandbox/pages", json=page)).status_code == 200


async def graph_send(http: httpx.AsyncClient, psid: str, **extra: object) -> httpx.Response:
    body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}
    return await http.post(f"/v25.0/{PAGE}/messages?access_token={TOKEN}", json=body | extra)


async def test_pages_users_clock_and_send_log(bare: tuple[GraphState, httpx.AsyncClient]) -> None:
    _, http = bare
    await setup_page(http)
    clock = await http.post("/_sandbox/clock", json={"now": "2026-04-01T08:00:00Z"})
    assert clock.json() == {"now": "2026-04-01T08:00:00+00:00", "frozen": True}
    user = {
        "page": PAGE,
        "id": "u1",
        "first_name": "Lan",
        "last_interaction_at": "2026-04-01T07:00:00Z",
    }
    assert (await http.post("/_sandbox/users", json=user)).json()["conversation_started"] is True
    assert (await graph_send(http, "u1")).status_code == 200
    await http.post("/_sandbox/clock", json={"advance_seconds": 23 * 3600 + 1})
    assert (await graph_send(http, "u1")).status_code == 400
    await http.post("/_sandbox/interactions", json={"page": PAGE, "user": "u1"})
    assert (await graph_send(http, "u1")).status_code == 200

    log = (await http.get("/_sandbox/sends", params={"page": PAGE, "user": "u1"})).json()
    assert [r["accepted"] for r in log] == [True, False, True]
    assert log[1]["error"]["error_subcode"] == 2018278
    assert "24 h" in log[1]["reason"]
    rejected = (await http.get("/_sandbox/sends", params={"accepted": "false"})).json()
    assert len(rejected) == 1
    overview = (await http.get("/_sandbox/")).json()
    assert overview["sends"] == 3
    assert overview["pages"][0]["id"] == PAGE
    assert "token" not in overview["pages"][0]


async def test_features_rates_config_unavailable_revoke(
    bare: tuple[GraphState, httpx.AsyncClient],
) -> None:
    state, http = bare
    await setup_page(http)
    await http.post("/_sandbox/users", json={"page": PAGE, "id": "u1"})
    await http.post(
        "/_sandbox/interactions", json={"page": PAGE, "user": "u1", "at": "2020-01-01T00:00:00Z"}
    )
    tagged = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    await http.post("/_sandbox/clock", json={"now": "2020-01-03T00:00:00Z"})
    assert (await graph_send(http, "u1", **tagged)).json()["error"]["code"] == 200
    assert (await http.post("/_sandbox/features", json={"human_agent": True})).json()["human_agent"]
    assert (await graph_send(http, "u1", **tagged)).status_code == 200

    await http.post("/_sandbox/users/unavailable", json={"page": PAGE, "user": "u1"})
    assert (await graph_send(http, "u1", **tagged)).json()["error"]["code"] == 551

    rates = await http.post("/_sandbox/rates", json={"text_per_second": 5})
    assert rates.json()["text_per_second"] == 5
    assert state.rates.media_per_second == 10

    await http.post("/_sandbox/config", json={"auth_error_status": 401})
    await http.post(f"/_sandbox/pages/{PAGE}/revoke")
    response = await graph_send(http, "u1")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190

    assert (await http.post("/_sandbox/reset")).json() == {"ok": True}
    assert state.accounts == {}


async def test_control_errors(bare: tuple[GraphState, httpx.AsyncClient]) -> None:
    _, http = bare
    assert (await http.post("/_sandbox/users", json={"page": "nope", "id": "u"})).status_code == 404
    assert (await http.post("/_sandbox/pages", json={"id": PAGE})).status_code == 422
    assert (await http.post("/_sandbox/pages/nope/revoke")).status_code == 404
    assert (await http.get("/_sandbox/nothing")).json() == {"detail": "Not Found"}
    emit = {"events": [{"type": "message", "page": "nope", "user": "u", "text": "x"}]}
    assert (await http.post("/_sandbox/emit", json=emit)).status_code == 404
    await setup_page(http)  # no callback URL
    emit["events"][0]["page"] = PAGE
    assert (await http.post("/_sandbox/emit", json=emit)).status_code == 422


async def test_emit_over_http(
    bare: tuple[GraphState, httpx.AsyncClient], receiver: Receiver
) -> None:
    state, http = bare
    await setup_page(http, receiver.url)
    emit = {
        "events": [
            {"type": "message", "page": PAGE, "user": "u1", "text": "Xin chào"},
            {"type": "comment", "page": PAGE, "post_id": "77", "text": "giá?", "from_id": "fb-1"},
            {"type": "optin", "page": PAGE, "user": "u1", "title": "Deals", "payload": "D"},
        ],
        "duplicate": 2,
    }
    response = await http.post("/_sandbox/emit", json=emit)
    assert response.status_code == 200
    result = response.json()
    assert result["statuses"] == [200, 200]
    assert len(receiver.requests) == 2
    request = receiver.requests[0]
    assert request.body.decode() == result["body"]
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-hub-signature-256"] == f"sha256={expected}"
    assert len(json.loads(request.body)["entry"]) == 3
    comment_id = result["refs"][1]
    assert comment_id in state.feed
    tokens = (await http.get("/_sandbox/tokens", params={"page": PAGE})).json()
    assert [t["token"] for t in tokens] == [result["refs"][2]]

    ref_link = {"type": "ref_link", "page": PAGE, "user": "u1", "ref": "x"}
    bad = await http.post("/_sandbox/emit", json={"events": [ref_link], "bad_signature": True})
    assert bad.json()["statuses"] == [200]
    last = receiver.requests[-1]
    good = "sha256=" + hmac.new(SECRET.encode(), last.body, hashlib.sha256).hexdigest()
    assert last.headers["x-hub-signature-256"] != good
    assert bad.json()["headers"]["X-Hub-Signature-256"] == last.headers["x-hub-signature-256"]


async def test_unknown_event_type_is_422(bare: tuple[GraphState, httpx.AsyncClient]) -> None:
    _, http = bare
    emit = {"events": [{"type": "telepathy", "page": PAGE}]}
    assert (await http.post("/_sandbox/emit", json=emit)).status_code == 422
    assert (await http.post("/_sandbox/emit", json={"events": []})).status_code == 422
