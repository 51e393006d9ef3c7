"""Products for catalog tests, made through the service."""

from __future__ import annotations

from typing import Any

from chatcart.catalog import service as catalog
from chatcart.catalog.schemas import ProductIn, ProductOut, VariantIn
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime


def tee(**changes: Any) -> ProductIn:
    base: dict[str, Any] = {
        "handle": "ao-thun-basic",
        "name": "Áo thun cotton basic",
        "description": "Áo thun 100% cotton, form rộng, thấm hút mồ hôi.",
        "currency": "VND",
        "option_names": ["Size", "Màu"],
        "categories": ["Thời trang nữ > Áo thun"],
        "tags": ["mùa hè"],
        "variants": [
            VariantIn(sku="AT-M-DO", option_values=["M", "Đỏ"], price=150000, stock=3),
            VariantIn(
                sku="AT-L-DO",
                option_values=["L", "Đỏ"],
                price=160000,
                compare_at_price=200000,
                stock=0,
            ),
            VariantIn(sku="AT-M-DEN", option_values=["M", "Đen"], price=150000),
        ],
    }
    base.update(changes)
    return ProductIn(**base)


async def save(runtime: Runtime, workspace_id: int, data: ProductIn) -> ProductOut:
    async with transaction(runtime.sessions) as session:
        return (await catalog.save_product(session, workspace_id, data)).product
