"""Import of WooCommerce's and Shopify's product exports and of chatcart's own CSV: good
products import, bad ones are listed by line and column and skipped whole, re-imports update."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chatcart.catalog import service as catalog
from chatcart.catalog.errors import ImportUnreadable
from chatcart.catalog.schemas import ImportFormat, ImportReport, ProductQuery
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop
from tests.helpers.servers import settings_env

FIXTURES = Path(__file__).parent / "fixtures"
WOO_SAMPLE = Path("/work/shared/data/woocommerce-sample-products/sample_products.csv")


async def _import(
    runtime: Runtime, workspace_id: int, data: bytes, fmt: ImportFormat, currency: str = "VND"
) -> ImportReport:
    return await catalog.import_csv(runtime.sessions, workspace_id, data, fmt, currency)


async def _product(runtime: Runtime, workspace_id: int, handle: str) -> catalog.ProductOut:
    async with runtime.sessions() as session:
        found = await catalog.find_by_handle(session, workspace_id, handle)
    assert found is not None, handle
    return found


@pytest.mark.skipif(not WOO_SAMPLE.exists(), reason="WooCommerce's sample export not here")
async def test_woocommerce_own_sample_export_imports_completely(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    report = await _import(
        runtime, shop.workspace_id, WOO_SAMPLE.read_bytes(), "woocommerce", "USD"
    )
    assert (report.rows, report.products, report.created, report.skipped) == (25, 18, 18, 0)
    assert report.errors == [] and report.warnings == []
    hoodie = await _product(runtime, shop.workspace_id, "woo-hoodie")
    assert hoodie.kind == "variable" and hoodie.option_names == ["Color", "Logo"]
    assert {(tuple(v.option_values), v.price, v.compare_at_price) for v in hoodie.variants} == {
        (("Blue", "Yes"), 4500, None),
        (("Red", "No"), 4200, 4500),
        (("Green", "No"), 4500, None),
        (("Blue", "No"), 4500, None),
    }
    vneck = await _product(runtime, shop.workspace_id, "woo-vneck-tee")
    assert vneck.variants[0].option_values[1] == ""  # "any Size"
    group = await _product(runtime, shop.workspace_id, "logo-collection")
    assert [p.handle for p in group.grouped] == ["woo-hoodie-with-logo", "woo-tshirt", "woo-beanie"]
    pennant = await _product(runtime, shop.workspace_id, "wp-pennant")
    assert pennant.kind == "external" and pennant.variants[0].price_text == "$11.05"
    again = await _import(runtime, shop.workspace_id, WOO_SAMPLE.read_bytes(), "woocommerce", "USD")
    assert (again.created, again.updated, again.skipped) == (0, 18, 0)
    async with runtime.sessions() as session:
        assert await catalog.count_products(session, shop.workspace_id) == 18


async def test_woocommerce_fixture_simple_variable_grouped_external(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    data = (FIXTURES / "woocommerce_fashion.csv").read_bytes()
    report = await _import(runtime, shop.workspace_id, data, "woocommerce")
    assert (report.products, report.created, report.skipped, report.errors) == (5, 5, 0, [])
    tee = await _product(runtime, shop.workspace_id, "ao-thun-basic")
    assert tee.option_names == ["Size", "Màu"]
    assert [(v.sku, v.price, v.compare_at_price, v.stock) for v in tee.variants] == [
        ("AT-S-TRANG", 150000, None, 5),
        ("AT-M-TRANG", 129000, 150000, 0),
        ("AT-L-DEN", 160000, None, None),
    ]
    assert tee.description == "Áo thun 100% cotton, form rộng.\nGiặt máy được."
    assert [i.url for i in tee.images] == [
        "https://shop.example/ao-thun.jpg",
        "https://shop.example/ao-thun-den.jpg",
    ]
    assert tee.variants[2].image_id == tee.images[1].id
    tote = await _product(runtime, shop.workspace_id, "tui-tote")
    assert tote.variants[0].stock == 0  # "In stock?" 0 with no count
    combo = await _product(runtime, shop.workspace_id, "combo-di-bien")
    assert [p.name for p in combo.grouped] == ["Nón bucket", "Túi tote canvas"]
    async with runtime.sessions() as session:
        found = await catalog.search(session, shop.workspace_id, ProductQuery(q="non"))
    assert [c.name for c in found] == ["Nón bucket"]


async def test_bad_rows_are_listed_and_their_products_skipped_whole(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    data = (FIXTURES / "woocommerce_bad_rows.csv").read_bytes()
    report = await _import(runtime, shop.workspace_id, data, "woocommerce")
    problems = [(p.line, p.column, p.problem) for p in report.errors]
    assert problems == [
        (3, "Regular price", "VND has no decimals: write 150000"),
        (4, "SKU", "SKU 'GOOD-1' is already used on line 2"),
        (7, "Regular price", "'abc' is not a price like 150000 or 1250.50"),
        (8, "Parent", "the variation's parent 'khong-co' is not a variable product of this file"),
        (9, "Regular price", "the price is empty"),
        (10, "Stock", "'nhiều' is not a whole number"),
        (11, "Type", "'bundle' is not simple, variable, variation, grouped or external"),
    ]
    assert (report.created, report.skipped) == (1, 5)
    async with runtime.sessions() as session:
        cards = await catalog.search(session, shop.workspace_id, ProductQuery())
    # The variable product with one bad variation is not there at all (nothing half-imported).
    assert [c.name for c in cards] == ["Khăn lụa"]


async def test_shopify_export_with_image_rows_and_default_title(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    data = (FIXTURES / "shopify_fashion.csv").read_bytes()
    report = await _import(runtime, shop.workspace_id, data, "shopify")
    assert (report.rows, report.created, report.skipped, report.errors) == (5, 2, 0, [])
    shirt = await _product(runtime, shop.workspace_id, "so-mi-linen")
    assert shirt.description == "Sơ mi linen thoáng mát.\nForm suông."
    assert [c.path for c in shirt.categories] == ["Áo sơ mi"]
    assert [
        (v.sku, v.option_values, v.price, v.compare_at_price, v.stock) for v in shirt.variants
    ] == [
        ("SM-M-TRANG", ["M", "Trắng"], 350000, 420000, 7),
        ("SM-L-TRANG", ["L", "Trắng"], 350000, 420000, 0),
        ("SM-M-XANH", ["M", "Xanh"], 360000, None, 0),  # oversold (-2) reads as none left
    ]
    assert len(shirt.images) == 4
    bracelet = await _product(runtime, shop.workspace_id, "vong-tay-bac")
    assert (bracelet.option_names, bracelet.status, bracelet.kind) == ([], "draft", "simple")
    again = await _import(runtime, shop.workspace_id, data, "shopify")
    assert (again.created, again.updated) == (0, 2)
    after = await _product(runtime, shop.workspace_id, "so-mi-linen")
    assert [v.id for v in after.variants] == [v.id for v in shirt.variants]


async def test_chatcart_csv_with_currency_per_row(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    data = (
        "handle,name,description,status,categories,tags,option1_name,option1_value,"
        "sku,price,compare_at_price,stock,currency\n"
        "barong,Barong Tagalog,Piña fabric,active,Men > Formal;Sale,wedding,Size,M,BR-M,"
        "1250.50,1500,3,PHP\n"
        "barong,,,,,,,L,BR-L,1300,,0,\n"
    ).encode()
    report = await _import(runtime, shop.workspace_id, data, "chatcart")
    assert (report.created, report.errors) == (1, [])
    barong = await _product(runtime, shop.workspace_id, "barong")
    assert barong.currency == "PHP"
    assert [v.price_text for v in barong.variants] == ["₱1,250.50", "₱1,300.00"]
    assert sorted(c.path for c in barong.categories) == ["Men > Formal", "Sale"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("Tên,Giá\nÁo,1\n".encode("cp1258"), "the file is not UTF-8: line 1 has byte 0x54"[:30]),
        (b"", "the file is empty"),
        (b"ID,Name\n1,x\n", "missing columns: Type, SKU, Regular price"),
        (b'Type,SKU,Name,Regular price\nsimple,A,"broken,1\n', "broken quoting at line 2"),
        ("x".encode("utf-16"), "UTF-16"),
    ],
)
async def test_unreadable_files_import_nothing(runtime: Runtime, data: bytes, message: str) -> None:
    shop = await make_shop(runtime)
    with pytest.raises(ImportUnreadable, match=message.replace("(", r"\(")):
        await _import(runtime, shop.workspace_id, data, "woocommerce")


async def test_the_command_prints_the_report(runtime: Runtime, tmp_path: Path) -> None:
    await make_shop(runtime)
    problems = tmp_path / "problems.csv"
    result = subprocess.run(
        [
            sys.executable, "-m", "chatcart", "catalog", "import",
            str(FIXTURES / "woocommerce_bad_rows.csv"), "--workspace", "shop",
            "--format", "woocommerce", "--errors", str(problems),
        ],
        env=settings_env(runtime.settings) | {"COLUMNS": "200"},
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "10 rows, 6 products: 1 created, 0 updated, 5 skipped" in result.stdout
    assert "VND has no decimals: write 150000" in result.stdout
    assert problems.read_text("utf-8-sig").startswith("line,column,problem\n3,Regular price,")
    wrong = subprocess.run(
        [
            sys.executable, "-m", "chatcart", "catalog", "import",
            str(FIXTURES / "shopify_fashion.csv"), "--workspace", "shop", "--format", "woocommerce",
        ],
        env=settings_env(runtime.settings), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert "missing columns: SKU, Name, Regular price" in wrong.stderr
