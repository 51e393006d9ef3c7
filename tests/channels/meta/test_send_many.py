"""send_many: Graph batch requests, each call's outcome mapped like a direct send's, and a
lost batch reported as unknown (never as something to resend)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import orjson
import pytest

from chatcart.channels.base import (
    AccountRef,
    Attachment,
    MessageContent,
    OutboundEnvelope,
    SendError,
    SendResult,
    batch_sender,
)
from chatcart.channels.instagram.adapter import InstagramAdapter
from chatcart.channels.messenger.adapter import MessengerAdapter
from chatcart.channels.webchat.adapter import WebchatAdapter
from chatcart.kit.http import HttpLimits
from chatcart.sandbox.graph import GraphState, RateLimits, create_graph_app
from tests.channels.meta.support import PAGE_ID, PAGE_TOKEN, VERSION, FakeGraph, Reply
from tests.helpers.servers import free_port, serve_app

IG_PAGE = "104857392099999"
IG_TOKEN = "IGQ-batch-token"


def envelope(psid: str, text: str = "Sale 12.12!", **extra: object) -> OutboundEnvelope:
    return OutboundEnvelope.model_validate(
        {
            "idempotency_key": f"bc:1:{psid}",
            "recipient_id": psid,
            "messaging_type": "UPDATE",
            "content": MessageContent(text=text),
        }
        | extra
    )


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[GraphState, str]]:
    graph = GraphState()
    now = graph.clock.now()
    graph.add_page(PAGE_ID, PAGE_TOKEN, "secret", "http://127.0.0.1:9/unused")
    graph.add_page("17841405309211844", IG_TOKEN, "secret", "http://127.0.0.1:9/unused",
                   kind="instagram", page_id_link=IG_PAGE)  # fmt: skip
    for n in range(60):
        graph.add_user(PAGE_ID, f"70{n:02d}", last_interaction_at=now - timedelta(hours=1))
    graph.add_user(PAGE_ID, "7100", last_interaction_at=now - timedelta(hours=25))
    graph.add_user(PAGE_ID, "7101", last_interaction_at=now - timedelta(hours=1), unavailable=True)
    graph.add_user("17841405309211844", "9001", last_interaction_at=now - timedelta(hours=1))
    async with serve_app(create_graph_app(graph)) as host:
        yield graph, f"http://{host}"


def page(token: str = PAGE_TOKEN) -> AccountRef:
    return AccountRef(
        id=1, kind="messenger", external_id=PAGE_ID, credentials={"page_token": token}
    )


async def test_only_the_meta_adapters_send_batches() -> None:
    assert batch_sender(MessengerAdapter("http://x", VERSION)) is not None
    assert batch_sender(InstagramAdapter("http://x", VERSION)) is not None
    assert batch_sender(WebchatAdapter(None, 1000)) is None  # type: ignore[arg-type]


async def test_each_call_maps_like_a_direct_send(sandbox: tuple[GraphState, str]) -> None:
    graph, url = sandbox
    adapter = MessengerAdapter(url, VERSION)
    try:
        psids = [f"70{n:02d}" for n in range(55)] + ["7100", "7101", "424242"]
        envelopes = [envelope(p) for p in psids]
        envelopes.append(envelope("7000", "", content=MessageContent()))  # nothing to send
        results = await adapter.send_many(page(), envelopes)
        direct = []
        for p in ("7100", "7101", "424242"):
            with pytest.raises(SendError) as caught:
                await adapter.send(page(), envelope(p))
            direct.append(caught.value)
    finally:
        await adapter.aclose()
    sent = results[:55]
    assert all(isinstance(r, SendResult) and r.external_id.startswith("m_") for r in sent)
    refused = results[55:58]
    assert all(isinstance(r, SendError) for r in refused)
    for mine, theirs in zip(refused, direct, strict=True):
        assert isinstance(mine, SendError)
        assert (mine.outcome, mine.code) == (theirs.outcome, theirs.code)
    assert [r.outcome for r in refused if isinstance(r, SendError)] == [
        "policy",
        "unreachable",
        "failed",
    ]
    empty = results[58]
    assert isinstance(empty, SendError) and empty.code == "content/empty"
    accepted = [s for s in graph.sends(PAGE_ID) if s.accepted]
    assert len(accepted) == 55  # two requests: 50, then 5
    assert accepted[0].request["message"]["metadata"] == "bc:1:7000"


async def test_token_and_rate_limit_errors_per_message(sandbox: tuple[GraphState, str]) -> None:
    graph, url = sandbox
    adapter = MessengerAdapter(url, VERSION)
    try:
        graph.rates = RateLimits(text_per_second=2)
        limited = await adapter.send_many(page(), [envelope(f"70{n:02d}") for n in range(4)])
        graph.rates = RateLimits()
        graph.revoked_tokens.add(PAGE_TOKEN)
        revoked = await adapter.send_many(page(), [envelope("7000"), envelope("7001")])
    finally:
        await adapter.aclose()
    assert [isinstance(r, SendResult) for r in limited] == [True, True, False, False]
    assert all(isinstance(r, SendError) and (r.outcome, r.code) == ("retry", "613")
               for r in limited[2:])  # fmt: skip
    assert all(isinstance(r, SendError) and r.outcome == "reauth" and r.code == "190/460"
               for r in revoked)  # fmt: skip


async def test_instagram_sends_through_its_page(sandbox: tuple[GraphState, str]) -> None:
    graph, url = sandbox
    adapter = InstagramAdapter(url, VERSION)
    account = AccountRef(id=2, kind="instagram", external_id="17841405309211844",
                         credentials={"page_token": IG_TOKEN}, settings={"page_id": IG_PAGE})  # fmt: skip
    try:
        (result,) = await adapter.send_many(account, [envelope("9001")])
    finally:
        await adapter.aclose()
    assert isinstance(result, SendResult)
    (record,) = graph.sends("17841405309211844")
    assert record.accepted and record.path == f"/{VERSION}/{IG_PAGE}/messages"


async def test_a_message_of_several_parts_is_sent_on_its_own(
    graph: FakeGraph, page_account: AccountRef
) -> None:
    adapter = MessengerAdapter(graph.url, VERSION)
    two_parts = MessageContent(
        text="Xem ảnh", attachments=[Attachment(kind="image", url="https://x/a.jpg")]
    )
    graph.answer(
        Reply(body=[{"code": 200, "body": orjson.dumps({"message_id": "m_1"}).decode()}]),
    )
    try:
        results = await adapter.send_many(
            page_account, [envelope("1"), envelope("2", content=two_parts)]
        )
    finally:
        await adapter.aclose()
    assert [type(r) for r in results] == [SendResult, SendResult]
    batch_request, *alone = graph.requests
    assert batch_request.path == f"/{VERSION}/"
    assert batch_request.body["access_token"] == PAGE_TOKEN
    (call,) = orjson.loads(batch_request.body["batch"])
    assert call["relative_url"] == f"{VERSION}/{PAGE_ID}/messages"
    assert [r.path for r in alone] == [f"/{VERSION}/{PAGE_ID}/messages"] * 2


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500, body={"error": "oops"}),
        Reply(status=502, raw=b"<html>bad gateway</html>"),
        Reply(body={"not": "a list"}),
        Reply(body=[{"code": 200, "body": "{}"}]),  # fewer answers than calls
        Reply(delay=2.0, body=[]),  # the answer never comes in time
    ],
    ids=["500", "502-html", "not-a-list", "short", "timeout"],
)
async def test_a_lost_batch_is_unknown_for_each_message(
    graph: FakeGraph, page_account: AccountRef, reply: Reply
) -> None:
    adapter = MessengerAdapter(graph.url, VERSION, limits=HttpLimits(total_seconds=0.5))
    graph.answer(reply)
    try:
        results = await adapter.send_many(page_account, [envelope("1"), envelope("2")])
    finally:
        await adapter.aclose()
    assert all(isinstance(r, SendError) and r.outcome == "unknown" for r in results)
    assert len(graph.requests) == 1  # never sent again on its own


async def test_a_refused_batch_and_a_null_answer(
    graph: FakeGraph, page_account: AccountRef
) -> None:
    adapter = MessengerAdapter(graph.url, VERSION)
    refused = {"error": {"message": "Invalid OAuth access token", "type": "OAuthException",
                         "code": 190, "fbtrace_id": "x"}}  # fmt: skip
    done = orjson.dumps({"message_id": "m_9"}).decode()
    graph.answer(Reply(status=400, body=refused), Reply(body=[None, {"code": 200, "body": done}]))
    try:
        whole = await adapter.send_many(page_account, [envelope("1"), envelope("2")])
        partly = await adapter.send_many(page_account, [envelope("1"), envelope("2")])
    finally:
        await adapter.aclose()
    assert all(isinstance(r, SendError) and r.outcome == "reauth" for r in whole)
    first, second = partly
    assert isinstance(first, SendError) and first.outcome == "unknown"
    assert isinstance(second, SendResult) and second.external_id == "m_9"


async def test_no_connection_means_nothing_was_sent(page_account: AccountRef) -> None:
    adapter = MessengerAdapter(f"http://127.0.0.1:{free_port()}", VERSION)
    try:
        results = await adapter.send_many(page_account, [envelope("1"), envelope("2")])
    finally:
        await adapter.aclose()
    assert all(isinstance(r, SendError) and r.outcome == "retry" for r in results)


async def test_sender_actions_go_in_a_batch(sandbox: tuple[GraphState, str]) -> None:
    """Typing indicators and mark_seen are Send API calls like any other: a batch takes
    them, and each is judged as the direct call would be (no message with them, inside the
    window only)."""
    graph, url = sandbox
    adapter = MessengerAdapter(url, VERSION)
    actions = [
        OutboundEnvelope(idempotency_key=f"k:{a}", recipient_id=p, sender_action=a)
        for p in ("7000", "7001", "7100")  # 7100 wrote 25 hours ago
        for a in ("mark_seen", "typing_on")
    ]
    try:
        results = await adapter.send_many(page(), actions)
    finally:
        await adapter.aclose()
    assert [isinstance(r, SendResult) for r in results] == [True] * 4 + [False] * 2
    assert all(isinstance(r, SendError) and r.outcome == "policy" for r in results[4:])
    calls = graph.sends(PAGE_ID)
    assert [(c.user_id, c.sender_action) for c in calls] == [
        (e.recipient_id, e.sender_action) for e in actions
    ]
    assert calls[0].request == {"recipient": {"id": "7000"}, "sender_action": "mark_seen"}
    assert calls[0].response == {"recipient_id": "7000"}
