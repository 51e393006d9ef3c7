"""/api/v1/products and /api/v1/categories: read-only, scoped to the token's workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chatcart.catalog import service
from chatcart.catalog.schemas import (
    CategoryOut,
    ProductCard,
    ProductOut,
    ProductQuery,
    ProductStatus,
)
from chatcart.http_deps import ApiPrincipal, DbSession

router = APIRouter(tags=["catalog"])


@router.get("/products", response_model=list[ProductCard])
async def list_products(
    principal: ApiPrincipal,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200, description="Words; accents optional.")] = None,
    category_id: Annotated[int | None, Query(description="With its subcategories.")] = None,
    status: ProductStatus | None = None,
    in_stock: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ProductCard]:
    """Products as cards (price range, stock, first image), best match first when searching."""
    query = ProductQuery(
        q=q, category_id=category_id, status=status, in_stock=in_stock, limit=limit, offset=offset
    )
    return await service.search(session, principal.workspace_id, query)


@router.get("/products/{product_id}", response_model=ProductOut)
async def get_product(product_id: int, principal: ApiPrincipal, session: DbSession) -> ProductOut:
    """One product with its variants (prices in minor units), images and categories."""
    return await service.get_product(session, principal.workspace_id, product_id)


@router.get("/categories", response_model=list[CategoryOut])
async def list_categories(principal: ApiPrincipal, session: DbSession) -> list[CategoryOut]:
    return await service.list_categories(session, principal.workspace_id)
