"""Products with variants: prices in minor units, stock per variant, categories, edits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chatcart.catalog import service as catalog
from chatcart.catalog.errors import ProductNotFound, SkuTaken
from chatcart.catalog.schemas import ProductQuery, VariantIn
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.catalog.helpers import save, tee
from tests.helpers.factory import make_shop


async def test_a_product_keeps_its_variants_prices_and_categories(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    product = await save(runtime, shop.workspace_id, tee())
    assert product.handle == "ao-thun-basic"
    assert [v.sku for v in product.variants] == ["AT-M-DO", "AT-L-DO", "AT-M-DEN"]
    assert product.variants[0].price_text == "150.000\xa0₫"
    assert product.variants[1].compare_at_text == "200.000\xa0₫"
    assert [c.path for c in product.categories] == ["Thời trang nữ > Áo thun"]
    async with runtime.sessions() as session:
        cards = await catalog.search(session, shop.workspace_id, ProductQuery())
        categories = await catalog.list_categories(session, shop.workspace_id)
    [card] = cards
    assert (card.min_price, card.max_price, card.stock, card.in_stock) == (150000, 160000, 3, True)
    assert card.price_text() == "150.000\xa0₫ – 160.000\xa0₫"
    assert [(c.path, c.depth, c.product_count) for c in categories] == [
        ("Thời trang nữ", 0, 0),
        ("Thời trang nữ > Áo thun", 1, 1),
    ]


async def test_editing_keeps_variant_ids_and_drops_removed_variants(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    first = await save(runtime, shop.workspace_id, tee())
    kept = first.variants[0]
    data = tee(
        variants=[
            VariantIn(sku="AT-M-DO", option_values=["M", "Đỏ"], price=140000, stock=5),
            VariantIn(sku="AT-S-DO", option_values=["S", "Đỏ"], price=140000, stock=1),
        ]
    )
    async with transaction(runtime.sessions) as session:
        saved = await catalog.save_product(session, shop.workspace_id, data, product_id=first.id)
    assert not saved.created
    variants = saved.product.variants
    assert [v.sku for v in variants] == ["AT-M-DO", "AT-S-DO"]
    assert variants[0].id == kept.id and variants[0].price == 140000


async def test_a_sku_belongs_to_one_product_of_the_workspace(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other")
    await save(runtime, shop.workspace_id, tee())
    with pytest.raises(SkuTaken, match="AT-M-DO"):
        await save(runtime, shop.workspace_id, tee(handle="ao-thun-2"))
    # Another workspace has its own SKUs, and cannot see this one's products.
    await save(runtime, other.workspace_id, tee())
    async with runtime.sessions() as session:
        with pytest.raises(ProductNotFound):
            await catalog.get_product(session, other.workspace_id, 1)


def test_bad_products_are_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="not an ISO 4217 currency"):
        tee(currency="ABC")
    with pytest.raises(ValidationError, match="a value for each option"):
        tee(variants=[VariantIn(option_values=["M"], price=1)])
    with pytest.raises(ValidationError, match="both m / đỏ"):
        tee(
            variants=[
                VariantIn(option_values=["M", "Đỏ"], price=1),
                VariantIn(option_values=["m", "đỏ"], price=2),
            ]
        )
    with pytest.raises(ValidationError, match="needs a price"):
        tee(variants=[])
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        VariantIn(price=-1)


async def test_deleting_a_product_and_a_category(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    product = await save(runtime, shop.workspace_id, tee())
    async with transaction(runtime.sessions) as session:
        await catalog.delete_category(session, shop.workspace_id, product.categories[0].id)
    async with runtime.sessions() as session:
        after = await catalog.get_product(session, shop.workspace_id, product.id)
    assert after.categories == []
    async with transaction(runtime.sessions) as session:
        await catalog.delete_product(session, shop.workspace_id, product.id)
    async with runtime.sessions() as session:
        assert await catalog.count_products(session, shop.workspace_id) == 0
