from __future__ import annotations

from chatcart.channels.base import (
    AccountRef,
    Capabilities,
    ChannelAdapter,
    MessageContent,
    OutboundEnvelope,
)
from chatcart.channels.instagram.adapter import InstagramAdapter
from chatcart.channels.messenger.adapter import MessengerAdapter
from chatcart.channels.meta.send_body import major, split_tail
from chatcart.kit.http import HttpLimits, base_url, create_session
from tests.channels.meta.support import VERSION, FakeGraph


def test_capabilities() -> None:
    messenger: ChannelAdapter = MessengerAdapter("http://graph.invalid", VERSION)
    instagram: ChannelAdapter = InstagramAdapter("http://graph.invalid", VERSION)
    assert (messenger.kind, instagram.kind) == ("messenger", "instagram")
    assert messenger.capabilities == Capabilities(
        max_text_chars=2000,
        quick_replies=13,
        buttons=3,
        attachments=True,
        cards=10,
        receipt=True,
        sender_actions=True,
    )
    assert instagram.capabilities == Capabilities(
        max_text_chars=1000, quick_replies=13, buttons=3, attachments=True, cards=10, receipt=False
    )


async def test_session_is_made_lazily_reused_and_closed(
    graph: FakeGraph, page_account: AccountRef
) -> None:
    adapter = MessengerAdapter(graph.url, VERSION)
    assert adapter._sessions == {}
    envelope = OutboundEnvelope(
        idempotency_key="k", recipient_id="1", content=MessageContent(text="hi")
    )
    try:
        await adapter.send(page_account, envelope)
        (first,) = adapter._sessions.values()
        await adapter.send(page_account, envelope)
        assert list(adapter._sessions.values()) == [first]
    finally:
        await adapter.aclose()
    assert first.closed
    await adapter.aclose()  # twice is fine


async def test_an_account_may_name_its_own_graph_url(
    graph: FakeGraph, page_account: AccountRef
) -> None:
    """The demo's Page talks to the built-in sandbox while real Pages talk to Meta."""
    adapter = MessengerAdapter("http://127.0.0.1:9/unreachable", VERSION)
    own = page_account.model_copy(
        update={"settings": {**page_account.settings, "graph_api_url": graph.url}}
    )
    envelope = OutboundEnvelope(
        idempotency_key="k", recipient_id="1", content=MessageContent(text="hi")
    )
    try:
        result = await adapter.send(own, envelope)
    finally:
        await adapter.aclose()
    assert result.external_id


async def test_create_session_applies_base_and_limits() -> None:
    limits = HttpLimits(total_seconds=5, connect_seconds=2, connections=7, connections_per_host=3)
    session = create_session("http://127.0.0.1:9/graph", limits=limits, headers={"X-A": "1"})
    try:
        assert str(session._base_url) == "http://127.0.0.1:9/graph/"
        assert session.timeout.total == 5
        assert session.timeout.connect == 2
        assert session.connector is not None
        assert session.connector.limit == 7
        assert session.connector.limit_per_host == 3
        assert session.headers["X-A"] == "1"
    finally:
        await session.close()
    assert base_url("https://graph.facebook.com") == "https://graph.facebook.com/"
    assert base_url("https://graph.facebook.com/") == "https://graph.facebook.com/"


def test_split_tail() -> None:
    assert split_tail("ngắn", 640) == ("", "ngắn")
    head, tail = split_tail("một hai ba bốn năm", 8)
    assert (head, tail) == ("một hai ba", "bốn năm")
    head, tail = split_tail("x" * 20, 8)
    assert (head, tail) == ("x" * 12, "x" * 8)


def test_major_units() -> None:
    assert major(150000, "VND") == 150000
    assert isinstance(major(150000, "VND"), int)
    assert major(125000, "PHP") == 1250.0
    assert major(199, "php") == 1.99
