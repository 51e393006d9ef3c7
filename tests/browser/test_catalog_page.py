"""The admin catalog in a real browser, on the seeded demo shop: live search without
accents, filters, editing a variant's price, uploading a picture."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from chatcart.catalog.pictures import garment_png
from tests.browser.conftest import DemoServer, NewPerson
from tests.browser.test_demo_journey import log_in, save_shot

pytestmark = pytest.mark.browser


async def test_search_filter_edit_and_upload(
    demo_server: DemoServer, new_person: NewPerson, tmp_path: Path
) -> None:
    owner = await new_person(locale="vi-VN")
    page = owner.page
    await page.goto(f"{demo_server.base_url}/admin/catalog")
    await log_in(page, demo_server.email, demo_server.password)
    await page.wait_for_url("**/admin/catalog")
    rows = page.locator("#product-rows tbody tr[data-product]")
    await expect(rows).to_have_count(25)
    await expect(page.locator("nav a[href='/admin/catalog']")).to_have_text("Sản phẩm")

    # Typing without accents narrows the list as one types (HTMX), and the URL follows.
    await page.locator("input[name=q]").fill("ao thun")
    await expect(rows).to_have_count(3)
    await expect(page.locator("#product-rows")).to_contain_text("Áo thun cotton basic")
    assert "q=ao%20thun" in page.url
    await page.screenshot(path=tmp_path / "catalog-search.png", full_page=True)
    save_shot(tmp_path, "catalog-search.png")

    await page.locator("input[name=q]").fill("")
    await page.locator("select[name=status]").select_option("draft")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Blazer linen (sắp về)")

    # Edit: the first variant's price, typed the Vietnamese way.
    await page.locator("select[name=status]").select_option("")
    await page.locator("input[name=q]").fill("dam hoa nhi")
    await expect(rows.first).to_contain_text("Đầm hoa nhí đi biển")
    await expect(rows).to_have_count(1)
    await rows.first.locator("a").click()
    await page.wait_for_url("**/admin/catalog/*")
    price = page.locator("input[name=v_price]").first
    await expect(price).to_have_value("389000")
    await price.fill("359.000")
    await page.get_by_role("button", name="Lưu sản phẩm").click()
    await expect(page.locator(".saved")).to_have_text("Đã lưu.")
    await expect(page.locator("input[name=v_price]").first).to_have_value("359000")

    # Upload a picture; it shows among the product's images.
    images = page.locator("#images figure img")
    before = await images.count()
    await page.locator("input[name=image]").set_input_files(
        files=[
            {
                "name": "anh.png",
                "mimeType": "image/png",
                "buffer": garment_png("dress", (20, 160, 120), 96),
            }
        ]
    )
    await page.get_by_role("button", name="Tải lên").click()
    await expect(images).to_have_count(before + 1)
    loaded = await images.last.evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 96
    await page.screenshot(path=tmp_path / "catalog-product.png", full_page=True)
    save_shot(tmp_path, "catalog-product.png")
    assert owner.errors == []
