"""/api/v1: bearer tokens, workspace scoping, OpenAPI."""

from __future__ import annotations

import httpx

from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.helpers.widget import Visitor


async def test_api_needs_a_valid_token(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}/api/v1") as api,
    ):
        missing = await api.get("/conversations")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "not_authenticated"
        forged = await api.get("/conversations", headers={"Authorization": "Bearer cc_forged"})
        assert forged.status_code == 401
        assert forged.json()["error"]["code"] == "invalid_token"
        ok = await api.get("/workspace", headers={"Authorization": f"Bearer {shop.api_token}"})
        assert ok.status_code == 200
        assert ok.json()["slug"] == shop.slug
        assert ok.json()["name"] == "Shop Áo Thun"


async def test_conversations_and_messages_are_scoped_to_the_token_workspace(
    runtime: Runtime,
) -> None:
    mine = await make_shop(runtime, slug="mine")
    theirs = await make_shop(runtime, slug="theirs")
    async with live_server(runtime.settings) as host:
        visitor = await Visitor(host, theirs.widget_key).connect()
        await visitor.say("chào shop")
        await visitor.expect("message")
        await visitor.close()
        async with httpx.AsyncClient(base_url=f"http://{host}/api/v1") as api:
            their_auth = {"Authorization": f"Bearer {theirs.api_token}"}
            my_auth = {"Authorization": f"Bearer {mine.api_token}"}
            listing = (await api.get("/conversations", headers=their_auth)).json()
            assert len(listing) == 1
            conversation_id = listing[0]["id"]
            assert listing[0]["channel"] == "webchat"
            messages = (
                await api.get(f"/conversations/{conversation_id}/messages", headers=their_auth)
            ).json()
            assert [(m["direction"], m["status"]) for m in messages] == [
                ("in", "received"),
                ("out", "sent"),
            ]
            assert messages[0]["text"] == "chào shop"

            assert (await api.get("/conversations", headers=my_auth)).json() == []
            for path in (
                f"/conversations/{conversation_id}",
                f"/conversations/{conversation_id}/messages",
            ):
                response = await api.get(path, headers=my_auth)
                assert response.status_code == 404
                assert response.json()["error"]["code"] == "not_found"


async def test_bad_query_parameters_are_422_not_500(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}/api/v1") as api,
    ):
        auth = {"Authorization": f"Bearer {shop.api_token}"}
        too_small = await api.get("/conversations?limit=0", headers=auth)
        assert too_small.status_code == 422
        assert too_small.json()["error"]["code"] == "validation_failed"
        assert too_small.json()["error"]["message"].startswith("query.limit:")
        unknown = await api.get("/nope", headers=auth)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "not_found"
        assert (await api.get("/conversations?limit=abc", headers=auth)).status_code == 422
        assert (await api.get("/conversations/abc", headers=auth)).status_code == 422


async def test_openapi_is_published(runtime: Runtime) -> None:
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        spec = (await client.get("/api/v1/openapi.json")).json()
    assert spec["info"]["title"] == "chatcart API"
    assert {"/conversations", "/conversations/{conversation_id}/messages", "/workspace"} <= set(
        spec["paths"]
    )
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
