"""The admin flow list and editor: save with every error at its line, validate as you type,
publish, archive, workspace scoping, CSRF."""

from __future__ import annotations

import html

import httpx

from chatcart.runtime import Runtime
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server

GOOD = """\
id: sale
name: Khuyến mãi
triggers: [{type: keyword, keyword: sale}]
start: a
steps:
  a: {type: send, text: "Giảm 10% cho {{first_name}}"}
"""


async def test_create_check_publish_archive(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        await login(client, shop.email, shop.password)
        page = await client.get("/admin/flows")
        assert page.status_code == 200
        assert "lời chào có sẵn sẽ trả lời khách" in html.unescape(page.text)  # vi by default
        csrf = csrf_of(page.text)

        editor = await client.get("/admin/flows/new")
        assert editor.status_code == 200 and "id: new-flow" in editor.text

        checked = await client.post(
            "/admin/flows/check",
            data={"source": "id: x\nname: X\nstart: nowhere\nsteps: {a: {type: end}}\n"},
            headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        )
        text = html.unescape(checked.text)
        assert checked.status_code == 200
        assert "dòng 3" in text and "no step 'nowhere'" in text

        refused = await client.post(
            "/admin/flows",
            data={"source": GOOD.replace("start: a", "start: b"), "csrf_token": csrf},
        )
        assert refused.status_code == 422
        assert "no step &#39;b&#39;" in refused.text or "no step 'b'" in html.unescape(refused.text)
        assert "Giảm 10%" in html.unescape(refused.text)  # the text is kept for fixing

        saved = await client.post(
            "/admin/flows", data={"source": GOOD, "csrf_token": csrf}, follow_redirects=False
        )
        assert saved.status_code == 303 and saved.headers["location"] == "/admin/flows/sale"
        listing = html.unescape((await client.get("/admin/flows")).text)
        assert "Khuyến mãi" in listing and "Bản nháp" in listing

        published = await client.post(
            "/admin/flows/sale/publish", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert published.status_code == 303
        listing = html.unescape((await client.get("/admin/flows")).text)
        assert "Đang chạy" in listing
        await client.post("/admin/flows/sale/archive", data={"csrf_token": csrf})
        assert "Đã lưu trữ" in html.unescape((await client.get("/admin/flows")).text)

        no_token = await client.post("/admin/flows", data={"source": GOOD})
        assert no_token.status_code == 403

        client.cookies.set("lang", "en")
        english = (await client.get("/admin/flows")).text
        assert "Bot flows" in english and "Archived" in english
        await client.post("/admin/logout", data={"csrf_token": csrf})
        await login(client, other.email, other.password)
        assert (await client.get("/admin/flows/sale")).status_code == 404
        assert "Khuyến mãi" not in html.unescape((await client.get("/admin/flows")).text)
