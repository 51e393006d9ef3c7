"""Search by name, description, category, SKU and option values, accents optional, on
whichever database this run uses (FTS5 on SQLite, full-text on PostgreSQL)."""

from __future__ import annotations

import pytest

from chatcart.catalog import service as catalog
from chatcart.catalog.schemas import ProductQuery, VariantIn
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.catalog.helpers import save, tee
from tests.helpers.factory import make_shop


async def _names(runtime: Runtime, workspace_id: int, **query: object) -> list[str]:
    async with runtime.sessions() as session:
        cards = await catalog.search(session, workspace_id, ProductQuery(**query))  # type: ignore[arg-type]
    return [c.name for c in cards]


@pytest.fixture
async def shop_id(runtime: Runtime) -> int:
    shop = await make_shop(runtime)
    await save(runtime, shop.workspace_id, tee())
    await save(
        runtime,
        shop.workspace_id,
        tee(
            handle="quan-jean",
            name="Quần jean ống rộng",
            description="Vải denim dày dặn.",
            categories=["Thời trang nữ > Quần"],
            tags=[],
            option_names=["Size"],
            status="draft",
            variants=[VariantIn(sku="QJ-28", option_values=["28"], price=350000, stock=0)],
        ),
    )
    await save(
        runtime,
        shop.workspace_id,
        tee(
            handle="dam-hoa",
            name="Đầm hoa nhí",
            description="Đầm voan đi biển",
            categories=["Đầm"],
            tags=[],
            option_names=[],
            variants=[VariantIn(sku="DH-01", price=420000)],
        ),
    )
    return shop.workspace_id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ao thun", ["Áo thun cotton basic"]),
        ("Áo thun", ["Áo thun cotton basic"]),
        ("AO THUN", ["Áo thun cotton basic"]),
        ("dam", ["Đầm hoa nhí"]),  # đ folds to d
        ("quan jea", ["Quần jean ống rộng"]),  # the last word as a prefix
        ("denim", ["Quần jean ống rộng"]),  # description
        ("thoi trang nu quan", ["Quần jean ống rộng"]),  # category
        ("at-m-den", ["Áo thun cotton basic"]),  # SKU
        ("đen", ["Quần jean ống rộng", "Áo thun cotton basic"]),  # option Đen; denim
        ("mua he", ["Áo thun cotton basic"]),  # tag
        ("voan bien", ["Đầm hoa nhí"]),
        ("ao jean", []),  # every word must match
        ("'; DROP TABLE product; --", []),
        ('"*', None),
    ],
)
async def test_search_ignores_accents_and_case(
    runtime: Runtime, shop_id: int, query: str, expected: list[str] | None
) -> None:
    found = await _names(runtime, shop_id, q=query)
    if expected is None:  # no words at all: the plain listing
        assert len(found) == 3
    else:
        assert sorted(found) == sorted(expected)


async def test_filters_by_category_with_subcategories_status_and_stock(
    runtime: Runtime, shop_id: int
) -> None:
    async with runtime.sessions() as session:
        categories = {c.path: c.id for c in await catalog.list_categories(session, shop_id)}
    women = categories["Thời trang nữ"]
    assert sorted(await _names(runtime, shop_id, category_id=women)) == [
        "Quần jean ống rộng",
        "Áo thun cotton basic",
    ]
    assert await _names(runtime, shop_id, category_id=women, status="draft") == [
        "Quần jean ống rộng"
    ]
    assert "Quần jean ống rộng" not in await _names(runtime, shop_id, in_stock=True)
    assert await _names(runtime, shop_id, q="thun", status="draft") == []


async def test_search_sees_only_its_own_workspace(runtime: Runtime, shop_id: int) -> None:
    other = await make_shop(runtime, slug="other")
    assert await _names(runtime, other.workspace_id, q="ao thun") == []
    assert await _names(runtime, other.workspace_id) == []


async def test_edits_and_deletes_reach_the_index(runtime: Runtime, shop_id: int) -> None:
    async with runtime.sessions() as session:
        [card] = await catalog.search(session, shop_id, ProductQuery(q="dam hoa"))

    async with transaction(runtime.sessions) as session:
        await catalog.save_product(
            session,
            shop_id,
            tee(handle="vay-maxi", name="Váy maxi", option_names=[], variants=[VariantIn(price=1)]),
            product_id=card.id,
        )
    assert await _names(runtime, shop_id, q="dam hoa") == []
    assert await _names(runtime, shop_id, q="vay maxi") == ["Váy maxi"]
    async with transaction(runtime.sessions) as session:
        await catalog.delete_product(session, shop_id, card.id)
    assert await _names(runtime, shop_id, q="vay") == []


async def test_skus_with_numbers_and_hyphens_match_on_both_engines(
    runtime: Runtime, shop_id: int
) -> None:
    await save(
        runtime,
        shop_id,
        tee(
            handle="sp-01234",
            name="Mã số",
            option_names=[],
            categories=[],
            variants=[VariantIn(sku="SP-01234-M-TRANG", price=1)],
        ),
    )
    assert await _names(runtime, shop_id, q="sp-01234") == ["Mã số"]
    assert await _names(runtime, shop_id, q="01234 trang") == ["Mã số"]
