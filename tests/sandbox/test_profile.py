"""User Profile API (platforms.md 2.7) and the token's own Page node."""

from __future__ import annotations

import httpx
import pytest

from chatcart.sandbox.graph import GraphState
from tests.sandbox.helpers import IG, IG_TOKEN, IGSID, PAGE, PSID, TOKEN, error_of


async def get(
    client: httpx.AsyncClient, node: str, fields: str | None = None, token: str = TOKEN
) -> httpx.Response:
    params = {"access_token": token} | ({"fields": fields} if fields else {})
    return await client.get(f"/v25.0/{node}", params=params)


async def test_default_fields(client: httpx.AsyncClient) -> None:
    body = (await get(client, PSID)).json()
    assert body["first_name"] == "Lan"
    assert body["last_name"] == "Nguyễn"
    assert body["profile_pic"].startswith("https://")
    assert body["id"] == PSID


async def test_requested_fields_only(client: httpx.AsyncClient) -> None:
    assert (await get(client, PSID, "first_name")).json() == {"first_name": "Lan", "id": PSID}


async def test_ungranted_and_unknown_fields(client: httpx.AsyncClient, state: GraphState) -> None:
    for field in ("locale", "gender", "email"):
        err = error_of(await get(client, PSID, f"first_name,{field}"))
        assert err["code"] == 100
    state.accounts[PAGE].granted_profile_fields = {"locale"}
    assert (await get(client, PSID, "locale")).json()["locale"] == "vi_VN"


async def test_only_people_who_started_a_conversation(
    client: httpx.AsyncClient, state: GraphState
) -> None:
    state.add_user(PAGE, "7400", first_name="Hoa")
    err = error_of(await get(client, "7400"))
    assert err["message"] == "(#100) No profile available for that user."
    state.set_interaction(PAGE, "7400")
    assert (await get(client, "7400")).json()["first_name"] == "Hoa"


@pytest.mark.parametrize("node", ["123404", IGSID])
async def test_unknown_or_other_pages_psid(client: httpx.AsyncClient, node: str) -> None:
    err = error_of(await get(client, node))
    assert (err["code"], err["error_subcode"]) == (100, 33)


async def test_bad_token(client: httpx.AsyncClient) -> None:
    assert error_of(await get(client, PSID, token="nope"))["code"] == 190


async def test_instagram_profile(client: httpx.AsyncClient) -> None:
    body = (await get(client, IGSID, "name,username", token=IG_TOKEN)).json()
    assert body == {"name": "Lan", "username": "lan.ng", "id": IGSID}
    assert error_of(await get(client, IGSID, "first_name", token=IG_TOKEN))["code"] == 100


@pytest.mark.parametrize("node", ["me", PAGE])
async def test_page_node(client: httpx.AsyncClient, node: str) -> None:
    assert (await get(client, node, "id,name")).json() == {"id": PAGE, "name": "Shop Áo Thun"}


async def test_page_node_of_another_token(client: httpx.AsyncClient) -> None:
    assert error_of(await get(client, IG))["error_subcode"] == 33


async def test_subscribed_apps(client: httpx.AsyncClient, state: GraphState) -> None:
    url = f"/v25.0/{PAGE}/subscribed_apps"
    fields = "messages,messaging_postbacks,feed"
    response = await client.post(url, params={"access_token": TOKEN, "subscribed_fields": fields})
    assert response.json() == {"success": True}
    assert state.accounts[PAGE].subscribed_fields == ["messages", "messaging_postbacks", "feed"]
    listed = (await client.get(url, params={"access_token": TOKEN})).json()
    assert listed["data"][0]["subscribed_fields"] == ["messages", "messaging_postbacks", "feed"]
    empty = await client.post(url, params={"access_token": TOKEN})
    assert error_of(empty)["code"] == 100
