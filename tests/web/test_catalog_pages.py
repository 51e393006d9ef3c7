"""The admin catalog: list with search and filters, create/edit with variants, image upload
served from /media/, categories, CSV import with its report; CSRF and workspace scoping."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx

from chatcart.catalog.pictures import garment_png
from chatcart.runtime import Runtime
from tests.catalog.helpers import save, tee
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server

FIXTURES = Path(__file__).parent.parent / "catalog" / "fixtures"


def _new_product_form(csrf: str, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf_token": csrf,
        "name": "Đầm suông linen",
        "description": "Đầm linen mát",
        "status": "active",
        "currency": "VND",
        "tags": "linen, hè",
        "new_category": "Thời trang nữ > Đầm",
        "option1": "Size",
        "option2": "",
        "option3": "",
        "v_opt1": ["S", "M", ""],
        "v_opt2": ["", "", ""],
        "v_opt3": ["", "", ""],
        "v_sku": ["DS-S", "DS-M", ""],
        "v_price": ["450.000", "450.000", ""],  # the Vietnamese way: dots group thousands
        "v_compare": ["520.000", "", ""],
        "v_stock": ["4", "", ""],
    }
    form.update(changes)
    return form


async def test_create_edit_upload_and_list(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    await save(runtime, other.workspace_id, tee(name="Áo của shop khác"))
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}", cookies={"lang": "vi"}) as client,
    ):
        await login(client, shop.email, shop.password)
        new = await client.get("/admin/catalog/new")
        assert new.status_code == 200 and "Thêm sản phẩm" in html.unescape(new.text)
        csrf = csrf_of(new.text)
        refused = await client.post("/admin/catalog/new", data=_new_product_form("wrong"))
        assert refused.status_code == 403
        bad = await client.post(
            "/admin/catalog/new", data=_new_product_form(csrf, v_price=["abc", "1", ""])
        )
        assert bad.status_code == 422
        assert "Biến thể 1: không đọc được giá; hãy viết như 125.000." in html.unescape(bad.text)
        assert 'value="Đầm suông linen"' in html.unescape(bad.text)  # what was typed stays
        created = await client.post("/admin/catalog/new", data=_new_product_form(csrf))
        assert created.status_code == 303
        path = created.headers["location"].split("?")[0]
        page = html.unescape((await client.get(path)).text)
        assert 'value="450000"' in page and 'value="520000"' in page and "Đã lưu." not in page
        # Upload a picture: stored on disk, served from /media/ with its type.
        upload = await client.post(
            f"{path}/images",
            data={"csrf_token": csrf, "alt": "Đầm"},
            files={"image": ("dam.png", garment_png("dress", (90, 140, 200), 64), "image/png")},
        )
        assert upload.status_code == 303
        page = (await client.get(path)).text
        [src] = re.findall(r'<img src="(/media/[^"]+)"', page)
        picture = await client.get(src)
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
        assert picture.headers["x-content-type-options"] == "nosniff"
        svg = await client.post(
            f"{path}/images",
            data={"csrf_token": csrf},
            files={"image": ("x.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")},
        )
        assert svg.status_code == 422
        assert (await client.get("/media/../secret_key")).status_code == 404
        # The list: accent-insensitive search, category and status filters, other shops unseen.
        listing = html.unescape(
            (await client.get("/admin/catalog", params={"q": "dam suong"})).text
        )
        assert "Đầm suông linen" in listing and "450.000\xa0₫" in listing
        assert "Áo của shop khác" not in html.unescape((await client.get("/admin/catalog")).text)
        drafts = html.unescape(
            (await client.get("/admin/catalog", params={"status": "draft"})).text
        )
        assert "Đầm suông linen" not in drafts
        # Edit: one variant removed, status to draft.
        edit = _new_product_form(
            csrf, status="draft", v_opt1=["S", ""], v_opt2=["", ""], v_opt3=["", ""],
            v_sku=["DS-S", ""], v_price=["399.000", ""], v_compare=["", ""], v_stock=["", ""],
        )  # fmt: skip
        assert (await client.post(path, data=edit)).status_code == 303
        page = html.unescape((await client.get(path)).text)
        assert 'value="399000"' in page and "DS-M" not in page
        drafts = html.unescape(
            (await client.get("/admin/catalog", params={"status": "draft"})).text
        )
        assert "Đầm suông linen" in drafts


async def test_import_from_the_admin_shows_the_report(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}", cookies={"lang": "en"}) as client,
    ):
        await login(client, shop.email, shop.password)
        csrf = csrf_of((await client.get("/admin/catalog")).text)
        data = (FIXTURES / "woocommerce_bad_rows.csv").read_bytes()
        report = await client.post(
            "/admin/catalog/import",
            data={"csrf_token": csrf, "format": "woocommerce"},
            files={"file": ("products.csv", data, "text/csv")},
        )
        text = html.unescape(report.text)
        assert report.status_code == 200, text[-3000:]
        assert "10 rows, 6 products: 1 created, 0 updated, 5 skipped." in text
        assert "VND has no decimals: write 150000" in text
        wrong = await client.post(
            "/admin/catalog/import",
            data={"csrf_token": csrf, "format": "shopify"},
            files={"file": ("products.csv", data, "text/csv")},
        )
        assert wrong.status_code == 422
        assert (
            "Nothing was imported: missing columns: Handle, Title, Variant Price"
            in html.unescape(wrong.text)
        )
        # Categories: added by path, listed as a tree, deleted.
        await client.post(
            "/admin/catalog/categories", data={"csrf_token": csrf, "path": "Nam > Áo polo"}
        )
        page = html.unescape((await client.get("/admin/catalog")).text)
        assert "Áo polo" in page and "Phụ kiện" in page
