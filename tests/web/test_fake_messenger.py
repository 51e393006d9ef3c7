"""The demo's Fake Messenger: a customer of the demo Page, played from the admin, against
the built-in Graph sandbox."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator

import httpx
import pytest

from chatcart import demo
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
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
