"""/api/v1/segments and /api/v1/contacts over HTTP: bearer auth, workspace scope, 422s that
name the field, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx

from chatcart.config import Settings
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.helpers.factory import Shop, make_shop
from tests.helpers.servers import live_server
from tests.segments import helpers as h


@asynccontextmanager
async def _api(settings: Settings, shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        live_server(settings, run_worker=False) as host,
        httpx.AsyncClient(
            base_url=f"http://{host}/api/v1",
            headers={"Authorization": f"Bearer {shop.api_token}"},
        ) as client,
    ):
        yield client


async def _shop_with_contacts(runtime: Runtime) -> Shop:
    shop = await make_shop(runtime)
    ws = shop.workspace_id
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        messenger = await h.account(session, ws, "messenger")
        await h.field(session, ws, "city", "text")
        an = await h.contact(session, ws, "Nguyễn Văn An", last_interaction_at=now)
        await h.identity(session, ws, an, messenger, "psid-an", now - timedelta(hours=1))
        await h.phone(session, ws, an, "+84912345678")
        await h.tag(session, ws, an, "VIP")
        binh = await h.contact(session, ws, "Trần Thị Bình")
        await h.identity(session, ws, binh, messenger, "psid-binh", now - timedelta(days=2))
        await h.tag(session, ws, binh, "VIP")
    return shop


VIP = {"type": "tags", "has": "any", "tags": ["vip"]}
MESSAGEABLE = {"type": "messageable", "channel": "messenger"}


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_segments_need_a_token(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with _api(runtime.settings, shop) as api:
        for method, path in (
            ("GET", "/segments"),
            ("POST", "/segments/count"),
            ("GET", "/contacts"),
        ):
            response = await api.request(method, path, headers={"Authorization": ""})
            assert response.status_code == 401


async def test_crud_count_preview(runtime: Runtime) -> None:
    shop = await _shop_with_contacts(runtime)
    other = await make_shop(runtime, slug="other")
    body = {"name": "VIP nhắn được", "filter": {"type": "group", "rules": [VIP, MESSAGEABLE]}}
    async with _api(runtime.settings, shop) as api:
        made = await api.post("/segments", json=body)
        assert made.status_code == 201, made.text
        segment = made.json()
        assert segment["kind"] == "filter"
        assert segment["filter"]["rules"][1] == MESSAGEABLE
        again = await api.post("/segments", json=body)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "segment_name_taken"

        sid = segment["id"]
        assert [s["id"] for s in (await api.get("/segments")).json()] == [sid]
        assert (await api.get(f"/segments/{sid}")).json()["name"] == "VIP nhắn được"
        count = (await api.get(f"/segments/{sid}/count")).json()
        assert count["count"] == 1
        preview = (await api.get(f"/segments/{sid}/preview?limit=5")).json()
        assert [row["name"] for row in preview["items"]] == ["Nguyễn Văn An"]
        assert preview["items"][0]["phones"] == ["+84912345678"]
        assert preview["items"][0]["tags"] == ["VIP"]

        inline = await api.post("/segments/count", json={"filter": VIP})
        assert inline.json()["count"] == 2
        page = await api.post("/segments/preview", json={"filter": VIP, "limit": 1})
        assert [row["name"] for row in page.json()["items"]] == ["Nguyễn Văn An"]

        patched = await api.patch(f"/segments/{sid}", json={"filter": VIP, "name": "VIP"})
        assert patched.status_code == 200
        assert patched.json()["name"] == "VIP"
        assert (await api.get(f"/segments/{sid}/count")).json()["count"] == 2

        # Another workspace's token sees none of it.
        theirs = {"Authorization": f"Bearer {other.api_token}"}
        for path in (f"/segments/{sid}", f"/segments/{sid}/count", f"/segments/{sid}/preview"):
            response = await api.get(path, headers=theirs)
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "segment_not_found"
        assert (await api.get("/segments", headers=theirs)).json() == []
        assert (await api.post("/segments/count", json={"filter": VIP}, headers=theirs)).json()[
            "count"
        ] == 0

        gone = await api.delete(f"/segments/{sid}")
        assert gone.status_code == 204
        assert (await api.get(f"/segments/{sid}")).status_code == 404


async def test_bad_filters_are_422_naming_the_field(runtime: Runtime) -> None:
    shop = await _shop_with_contacts(runtime)
    cases: list[tuple[dict[str, Any], str]] = [
        (  # unknown custom field
            {"type": "group", "rules": [VIP, {"type": "field", "key": "colour", "op": "is_set"}]},
            "filter.rules[1].key",
        ),
        (  # wrong value type
            {"type": "group", "rules": [{"type": "field", "key": "city", "op": "eq", "value": 3}]},
            "filter.rules[0].value",
        ),
        (  # unknown op
            {"type": "group", "rules": [VIP, VIP, {"type": "tags", "has": "most", "tags": ["a"]}]},
            "filter.rules[2].has",
        ),
        (  # unknown predicate
            {"type": "group", "rules": [{"type": "zodiac", "sign": "leo"}]},
            "filter.rules[0].type",
        ),
        (  # bad nesting: a group without rules
            {"type": "group", "op": "or", "rules": [{"type": "group", "rules": []}]},
            "filter.rules[0].rules",
        ),
        (  # bad nesting: too deep
            {
                "type": "group",
                "rules": [
                    {
                        "type": "group",
                        "rules": [
                            {
                                "type": "group",
                                "rules": [
                                    {
                                        "type": "group",
                                        "rules": [
                                            {
                                                "type": "group",
                                                "rules": [{"type": "group", "rules": [VIP]}],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            },
            "filter" + ".rules[0]" * 5,  # the group one level too deep
        ),
    ]
    async with _api(runtime.settings, shop) as api:
        for filter_, path in cases:
            for method, url, extra in (
                ("POST", "/segments/count", {}),
                ("POST", "/segments/preview", {}),
                ("POST", "/segments", {"name": "bad"}),
            ):
                error = _error(await api.request(method, url, json={"filter": filter_, **extra}))
                assert error["code"] == "filter_invalid", (url, error)
                assert error["message"].startswith(f"{path}:"), (url, error)
                assert error["details"]["fields"][0]["field"] == path
                assert error["details"]["fields"][0]["code"]  # for a UI to say it its way
        missing = _error(await api.post("/segments", json={"filter": VIP}))
        assert missing["code"] == "validation_failed"
        assert missing["message"].startswith("name:")
        query = _error(await api.get("/segments/1/preview?limit=0"))
        assert query["message"].startswith("query.limit:")
        listed = _error(await api.get("/contacts", params={"filter": '{"type": "tags"}'}))
        assert listed["details"]["fields"][0]["field"] == "filter.tags"
        not_json = _error(await api.get("/contacts", params={"filter": "{"}))
        assert not_json["code"] == "filter_invalid"
        days = {"type": "created", "op": "within_days", "value": 99_999}
        too_far = _error(await api.post("/segments/count", json={"filter": days}))
        assert too_far["details"]["fields"] == [
            {
                "field": "filter.value",
                "problem": "days must be between 0 and 36500",
                "code": "days_range",
                "params": {"max": 36_500},
            }
        ]


async def test_id_list_over_http(runtime: Runtime) -> None:
    shop = await _shop_with_contacts(runtime)
    async with _api(runtime.settings, shop) as api:
        made = await api.post(
            "/segments/id-list",
            json={"name": "pasted", "text": "0912 345 678\npsid-binh\n 123456 \npsid-binh\n\n"},
        )
        assert made.status_code == 201, made.text
        result = made.json()
        assert result["contacts"] == 2
        assert result["unmatched"] == ["123456"]
        sid = result["segment_id"]
        assert (await api.get(f"/segments/{sid}/count")).json()["count"] == 2
        segment = (await api.get(f"/segments/{sid}")).json()
        assert segment["kind"] == "static"
        assert segment["filter"] is None
        refused = await api.patch(f"/segments/{sid}", json={"filter": VIP})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "static_segment_has_no_filter"
        listed = await api.get("/contacts", params={"segment_id": sid, "sort": "name"})
        assert [row["name"] for row in listed.json()] == ["Nguyễn Văn An", "Trần Thị Bình"]


async def test_contacts_list_search_and_filter(runtime: Runtime) -> None:
    shop = await _shop_with_contacts(runtime)
    async with _api(runtime.settings, shop) as api:
        everyone = (await api.get("/contacts")).json()
        assert [row["name"] for row in everyone] == ["Nguyễn Văn An", "Trần Thị Bình"]
        assert [r["name"] for r in (await api.get("/contacts?q=TRAN thi")).json()] == [
            "Trần Thị Bình"
        ]
        filtered = await api.get("/contacts", params={"filter": json.dumps(MESSAGEABLE)})
        assert [row["name"] for row in filtered.json()] == ["Nguyễn Văn An"]
        paged = await api.get("/contacts", params={"limit": 1, "offset": 1})
        assert [row["name"] for row in paged.json()] == ["Trần Thị Bình"]
        bad_sort = _error(await api.get("/contacts", params={"sort": "shoe_size"}))
        assert bad_sort["message"].startswith("query.sort:")


async def test_openapi_documents_the_filter(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with _api(runtime.settings, shop) as api:
        spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/segments",
        "/segments/count",
        "/segments/preview",
        "/segments/id-list",
        "/segments/{segment_id}",
        "/segments/{segment_id}/count",
        "/segments/{segment_id}/preview",
        "/contacts",
    ):
        assert path in paths, path
    count = paths["/segments/count"]["post"]
    assert count["summary"]
    examples = count["requestBody"]["content"]["application/json"]["examples"]
    assert "vip_messageable" in examples
    schemas = spec["components"]["schemas"]
    for name in ("TagsRule", "FieldRule", "MessageableRule", "ConsentRule"):
        assert name in schemas, name
    group = schemas.get("Group") or schemas["Group-Input"]
    assert group["properties"]["rules"]["items"]["discriminator"]["propertyName"] == "type"
