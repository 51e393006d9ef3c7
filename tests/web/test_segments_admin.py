"""Admin segments over HTTP: live count and preview, save / edit / delete, ID lists."""

from __future__ import annotations

import html
import json
import re

import httpx

from chatcart.contacts import service as contacts
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from chatcart.segments import service as segments
from chatcart.segments.schemas import IdListIn, SegmentOut
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.web.test_contacts_page import add

VIP = {"type": "group", "op": "and", "rules": [{"type": "tags", "has": "any", "tags": ["vip"]}]}


def count_in(fragment: str) -> int:
    found = re.search(r'id="segment-count" data-count="(\d+)"', fragment)
    assert found, fragment
    return int(found.group(1))


async def test_builder_preview_save_edit_delete(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    ws, account = shop.workspace_id, shop.widget_account_id
    lan = await add(runtime, ws, account, 1, "Trần Thị Lan", "0912345678")
    await add(runtime, ws, account, 2, "Nguyễn Văn Bình", "0987654321")
    other = await make_shop(runtime, slug="other", name="Other")
    async with transaction(runtime.sessions) as session:
        await contacts.tag(session, ws, [lan], ["VIP"])
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        await login(client, shop.email, shop.password)
        client.cookies.set("lang", "en")
        page = await client.get("/admin/segments/new")
        assert page.status_code == 200 and "segment-builder.js" in page.text
        csrf = csrf_of(page.text)
        headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}

        everyone = await client.post(
            "/admin/segments/preview", data={"filter": ""}, headers=headers
        )
        assert count_in(everyone.text) == 2
        vip = await client.post(
            "/admin/segments/preview", data={"filter": json.dumps(VIP)}, headers=headers
        )
        assert count_in(vip.text) == 1 and "Trần Thị Lan" in html.unescape(vip.text)
        incomplete = {"type": "group", "op": "and", "rules": [{"type": "tags", "tags": []}]}
        shown = await client.post(
            "/admin/segments/preview", data={"filter": json.dumps(incomplete)}, headers=headers
        )
        assert shown.status_code == 200 and "filter.rules[0].tags" in html.unescape(shown.text)
        unknown = {"type": "field", "key": "city", "op": "eq", "value": "Huế"}
        shown = await client.post(
            "/admin/segments/preview", data={"filter": json.dumps(unknown)}, headers=headers
        )
        assert "no custom field &#39;city&#39;" in shown.text or "city" in shown.text
        refused = await client.post("/admin/segments/preview", data={"filter": ""})
        assert refused.status_code == 403

        no_rule = await client.post(
            "/admin/segments", data={"name": "Trống", "filter": "", "csrf_token": csrf}
        )
        assert no_rule.status_code == 422
        saved = await client.post(
            "/admin/segments",
            data={"name": "Khách VIP", "filter": json.dumps(VIP), "csrf_token": csrf},
        )
        assert saved.status_code == 303
        segment_id = int(saved.headers["location"].rsplit("/", 1)[1])
        edit = await client.get(f"/admin/segments/{segment_id}")
        assert edit.status_code == 200 and "Khách VIP" in html.unescape(edit.text)
        taken = await client.post(
            "/admin/segments",
            data={"name": "Khách VIP", "filter": json.dumps(VIP), "csrf_token": csrf},
        )
        assert taken.status_code == 409
        bigger = {"type": "has_phone", "value": True}
        updated = await client.post(
            f"/admin/segments/{segment_id}",
            data={"name": "Có số", "filter": json.dumps(bigger), "csrf_token": csrf},
        )
        assert updated.status_code == 303
        async with runtime.sessions() as session:
            assert (await segments.count(session, ws, segment_id)).count == 2
        listing = html.unescape((await client.get("/admin/segments")).text)
        assert "Có số" in listing

        async with transaction(runtime.sessions) as session:
            theirs = await segments.create_from_id_list(
                session, other.workspace_id, segments_id_list("Của họ", "x")
            )
        assert (await client.get(f"/admin/segments/{theirs.segment_id}")).status_code == 404

        pasted = await client.post(
            "/admin/segments/id-list",
            data={
                "name": "Hội chợ",
                "text": "0912 345 678\nv2\n0999999999\nabc",
                "csrf_token": csrf,
            },
        )
        text = html.unescape(pasted.text)
        assert pasted.status_code == 201
        assert "2 of 4 lines matched, 2 contacts" in text
        assert "0999999999\nabc" in text  # the unmatched lines, in input order
        static = next(s for s in await _segments(runtime, ws) if s.name == "Hội chợ")
        static_page = await client.get(f"/admin/segments/{static.id}")
        assert count_in(static_page.text) == 2

        deleted = await client.post(
            f"/admin/segments/{segment_id}/delete", data={"csrf_token": csrf}
        )
        assert deleted.status_code == 303
        assert (await client.get(f"/admin/segments/{segment_id}")).status_code == 404


def segments_id_list(name: str, text: str) -> IdListIn:
    return IdListIn(name=name, text=text)


async def _segments(runtime: Runtime, workspace_id: int) -> list[SegmentOut]:
    async with runtime.sessions() as session:
        return await segments.list_segments(session, workspace_id)


async def test_filter_problems_speak_the_admins_language(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        await login(client, shop.email, shop.password)
        page = await client.get("/admin/segments/new")
        csrf = csrf_of(page.text)
        headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
        incomplete = {"type": "group", "op": "and", "rules": [VIP, {"type": "messageable"}]}
        wrong_field = {"type": "field", "key": "city", "op": "eq", "value": "Huế"}
        for lang, said in (
            ("vi", ["Điều kiện 2 › kênh</strong>: Bắt buộc.", "trường tùy chỉnh “city”"]),
            ("en", ["Condition 2 › channel</strong>: Required.", "no custom field “city”"]),
        ):
            client.cookies.set("lang", lang)
            shown = await client.post(
                "/admin/segments/preview",
                data={"filter": json.dumps(incomplete)},
                headers=headers,
            )
            text = html.unescape(shown.text)
            assert said[0] in text, text
            assert '"filter.rules[1].channel"' in text  # the builder still marks the condition
            shown = await client.post(
                "/admin/segments/preview", data={"filter": json.dumps(wrong_field)}, headers=headers
            )
            assert said[1] in html.unescape(shown.text)
        client.cookies.set("lang", "vi")
        empty = await client.post(
            "/admin/segments", data={"name": "Trống", "filter": "", "csrf_token": csrf}
        )
        assert empty.status_code == 422
        assert "Hãy thêm ít nhất một điều kiện." in html.unescape(empty.text)
        no_name = await client.post(
            "/admin/segments", data={"name": " ", "filter": json.dumps(VIP), "csrf_token": csrf}
        )
        assert no_name.status_code == 422
        assert "Tên</strong>: Hãy đặt tên cho phân khúc." in html.unescape(no_name.text)
        for expected in (303, 409):
            saved = await client.post(
                "/admin/segments",
                data={"name": "Khách VIP", "filter": json.dumps(VIP), "csrf_token": csrf},
            )
            assert saved.status_code == expected
        assert "Đã có phân khúc tên “Khách VIP”." in html.unescape(saved.text)
