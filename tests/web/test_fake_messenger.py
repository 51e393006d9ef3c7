"""The demo's Fake Messenger: a customer of the demo Page, played from the admin, against
the built-in Graph sandbox."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chatcart import demo
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from chatcart.sandbox.graph.model import SendRecord
from chatcart.web.fake_messenger import Bubble, _sender_actions
from tests.helpers.admin import csrf_of, login
from tests.helpers.servers import free_port, live_server


@pytest.fixture
async def admin(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    settings = runtime.settings.model_copy(
        update={"sandbox": True, "base_url": f"http://127.0.0.1:{port}"}
    )
    async with transaction(runtime.sessions) as session:
        seeded = await demo.seed(session, runtime.secrets, settings)
    assert seeded.password is not None
    async with (
        live_server(settings, port=port) as host,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=20) as client,
    ):
        await login(client, seeded.email, seeded.password)
        yield client


async def thread_until(client: httpx.AsyncClient, needle: str) -> str:
    for _ in range(200):
        text = html.unescape((await client.get("/admin/fake-messenger/thread")).text)
        if needle in text:
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{needle!r} never showed in the thread:\n{text}")


async def test_the_customer_chats_taps_opens_a_ref_link_and_comments(
    admin: httpx.AsyncClient,
) -> None:
    page = await admin.get("/admin/fake-messenger")
    assert page.status_code == 200
    csrf = csrf_of(page.text)

    said = await admin.post(
        "/admin/fake-messenger/say", data={"text": "xin chào", "csrf_token": csrf}
    )
    assert said.status_code == 200
    text = await thread_until(admin, "Xin chào Lan!")
    assert "Xem sản phẩm" in text  # the quick replies, shown like Messenger's
    await thread_until(admin, "Đã xem")  # the bot's mark_seen, under the customer's message

    await admin.post(
        "/admin/fake-messenger/say",
        data={"text": "Gặp nhân viên", "payload": "HUMAN", "csrf_token": csrf},
    )
    await thread_until(admin, "nhân viên sẽ trả lời bạn sớm nhất")

    await admin.post("/admin/fake-messenger/ref", data={"ref": "tiktok-tool", "csrf_token": csrf})
    await thread_until(admin, "ref=tiktok-tool")

    await admin.post(
        "/admin/fake-messenger/comment",
        data={"text": "Đã share, giá bao nhiêu?", "csrf_token": csrf},
    )
    text = await thread_until(admin, "Cảm ơn bạn đã bình luận!")
    assert "Đã share, giá bao nhiêu?" in text
    assert "Meta refused" not in text

    inbox = await admin.get("/admin/conversations")
    assert "Lan" in inbox.text
    assert "messenger" in inbox.text


async def test_actions_need_the_form_token(admin: httpx.AsyncClient) -> None:
    refused = await admin.post("/admin/fake-messenger/say", data={"text": "hi"})
    assert refused.status_code == 403


async def test_the_page_is_absent_without_the_sandbox(runtime: Runtime) -> None:
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        response = await client.get("/admin/fake-messenger")
    assert response.status_code in {303, 404}


def _record(
    seq: int, at: datetime, request: dict[str, object], accepted: bool = True
) -> SendRecord:
    return SendRecord(
        seq=seq,
        at=at,
        account_id="page",
        platform=None,
        path="/me/messages",
        request={"recipient": {"id": "psid"}, **request},
        accepted=accepted,
        http_status=200 if accepted else 400,
    )


def test_seen_and_typing_show_as_messenger_shows_them() -> None:
    t0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    at = [t0 + timedelta(seconds=n) for n in range(10)]
    mine = Bubble("me", at[0], text="còn áo không?")
    seen = _record(1, at[1], {"sender_action": "mark_seen"})
    typing = _record(2, at[2], {"sender_action": "typing_on"})

    bubbles = [mine]
    _sender_actions(bubbles, [seen, typing], now=at[3])
    assert mine.seen
    assert [b.side for b in bubbles] == ["me", "typing"]

    # The reply ends the dots; so does typing_off; and they fade after 20 s anyway.
    reply = _record(3, at[4], {"message": {"text": "Dạ còn ạ"}})
    bubbles = [Bubble("me", at[0]), Bubble("page", at[4], text="Dạ còn ạ")]
    _sender_actions(bubbles, [seen, typing, reply], now=at[5])
    assert [b.side for b in bubbles] == ["me", "page"]
    off = _record(3, at[4], {"sender_action": "typing_off"})
    bubbles = [Bubble("me", at[0])]
    _sender_actions(bubbles, [seen, typing, off], now=at[5])
    assert [b.side for b in bubbles] == ["me"]
    bubbles = [Bubble("me", at[0])]
    _sender_actions(bubbles, [seen, typing], now=at[2] + timedelta(seconds=21))
    assert [b.side for b in bubbles] == ["me"]

    # Seen only counts after the customer's latest message, and only when Meta accepted it.
    later = Bubble("me", at[5])
    _sender_actions([Bubble("me", at[0]), later], [seen], now=at[6])
    assert not later.seen
    refused = Bubble("me", at[0])
    _sender_actions([refused], [_record(1, at[1], {"sender_action": "mark_seen"}, False)], at[2])
    assert not refused.seen
