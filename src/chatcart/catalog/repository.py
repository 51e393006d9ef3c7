"""The catalog's queries. Search is one method over two engines' full-text indexes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    column,
    delete,
    exists,
    func,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from chatcart.models import (
    Category,
    Product,
    ProductCategoryLink,
    ProductGroupItem,
    ProductImage,
    ProductVariant,
)

_WORD = re.compile(r"[^\W_]+")
# SQLite's FTS5 index over product.search_text (created by the migration, not in metadata).
_FTS = table("fts_product", column("rowid"), column("rank"))


def search_terms(folded_query: str) -> list[str]:
    """Words of an already folded query; each matches as a prefix ("ao th" finds "ao thun")."""
    return _WORD.findall(folded_query)[:12]


async def product(session: AsyncSession, workspace_id: int, product_id: int) -> Product | None:
    return await session.scalar(
        select(Product).where(Product.id == product_id, Product.workspace_id == workspace_id)
    )


async def products_by_ids(
    session: AsyncSession, workspace_id: int, ids: Sequence[int]
) -> list[Product]:
    if not ids:
        return []
    rows = await session.scalars(
        select(Product).where(Product.workspace_id == workspace_id, Product.id.in_(ids))
    )
    return list(rows.all())


async def product_by_handle(
    session: AsyncSession, workspace_id: int, handle: str
) -> Product | None:
    return await session.scalar(
        select(Product).where(Product.workspace_id == workspace_id, Product.handle == handle)
    )


async def products_by_handles(
    session: AsyncSession, workspace_id: int, handles: Sequence[str]
) -> dict[str, int]:
    if not handles:
        return {}
    rows = await session.execute(
        select(Product.handle, Product.id).where(
            Product.workspace_id == workspace_id, Product.handle.in_(handles)
        )
    )
    return {handle: pid for handle, pid in rows.all()}


async def sku_owners(
    session: AsyncSession, workspace_id: int, skus: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """SKU -> (product id, product handle) for the SKUs already in use."""
    if not skus:
        return {}
    rows = await session.execute(
        select(ProductVariant.sku, Product.id, Product.handle)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(ProductVariant.workspace_id == workspace_id, ProductVariant.sku.in_(skus))
    )
    return {sku: (pid, handle) for sku, pid, handle in rows.all() if sku}


async def variants_of(session: AsyncSession, product_ids: Sequence[int]) -> list[ProductVariant]:
    if not product_ids:
        return []
    rows = await session.scalars(
        select(ProductVariant)
        .where(ProductVariant.product_id.in_(product_ids))
        .order_by(ProductVariant.product_id, ProductVariant.position, ProductVariant.id)
    )
    return list(rows.all())


async def images_of(session: AsyncSession, product_ids: Sequence[int]) -> list[ProductImage]:
    if not product_ids:
        return []
    rows = await session.scalars(
        select(ProductImage)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
    )
    return list(rows.all())


async def image(session: AsyncSession, workspace_id: int, image_id: int) -> ProductImage | None:
    return await session.scalar(
        select(ProductImage).where(
            ProductImage.id == image_id, ProductImage.workspace_id == workspace_id
        )
    )


async def category_links(
    session: AsyncSession, product_ids: Sequence[int]
) -> list[tuple[int, int]]:
    if not product_ids:
        return []
    rows = await session.execute(
        select(ProductCategoryLink.product_id, ProductCategoryLink.category_id).where(
            ProductCategoryLink.product_id.in_(product_ids)
        )
    )
    return [(p, c) for p, c in rows.all()]


async def set_categories(session: AsyncSession, product_id: int, category_ids: set[int]) -> None:
    await session.execute(
        delete(ProductCategoryLink).where(ProductCategoryLink.product_id == product_id)
    )
    session.add_all(
        ProductCategoryLink(product_id=product_id, category_id=c) for c in sorted(category_ids)
    )


async def set_group_items(session: AsyncSession, group_id: int, product_ids: list[int]) -> None:
    await session.execute(delete(ProductGroupItem).where(ProductGroupItem.group_id == group_id))
    session.add_all(
        ProductGroupItem(group_id=group_id, product_id=pid, position=n)
        for n, pid in enumerate(dict.fromkeys(product_ids))
    )


async def group_items(session: AsyncSession, group_id: int) -> list[int]:
    rows = await session.scalars(
        select(ProductGroupItem.product_id)
        .where(ProductGroupItem.group_id == group_id)
        .order_by(ProductGroupItem.position)
    )
    return list(rows.all())


async def categories(session: AsyncSession, workspace_id: int) -> list[Category]:
    rows = await session.scalars(
        select(Category)
        .where(Category.workspace_id == workspace_id)
        .order_by(Category.position, Category.key)
    )
    return list(rows.all())


async def category(session: AsyncSession, workspace_id: int, category_id: int) -> Category | None:
    return await session.scalar(
        select(Category).where(Category.id == category_id, Category.workspace_id == workspace_id)
    )


async def category_by_key(session: AsyncSession, workspace_id: int, key: str) -> Category | None:
    return await session.scalar(
        select(Category).where(Category.workspace_id == workspace_id, Category.key == key)
    )


async def category_counts(session: AsyncSession, workspace_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(ProductCategoryLink.category_id, func.count())
        .join(Category, Category.id == ProductCategoryLink.category_id)
        .where(Category.workspace_id == workspace_id)
        .group_by(ProductCategoryLink.category_id)
    )
    return {cid: int(n) for cid, n in rows.all()}


async def search(
    session: AsyncSession,
    workspace_id: int,
    folded_query: str | None,
    *,
    category_ids: Sequence[int] | None = None,
    status: str | None = None,
    in_stock: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[Product]:
    """Products of one workspace by words (name, description, categories, SKUs, options,
    tags; accent-insensitive, prefixes), category and status; best match first, else newest.

    SQLite: the FTS5 table fts_product; PostgreSQL: the generated column fts_vector and its
    GIN index fts_product_search. Both read product.search_text, folded by the service."""
    query: Select[Product] = (
        select(Product)
        .where(Product.workspace_id == workspace_id)
        .options(defer(Product.search_text))  # the index's input, of no use to a listing
    )
    terms = search_terms(folded_query or "")
    dialect = session.get_bind().dialect.name
    if terms and dialect == "sqlite":
        match = " ".join(f'"{term}"*' for term in terms)  # words only: nothing to escape
        # The FTS table drives the join, ordered by its own rank (bm25): SQLite then reads
        # product rows in rank order and stops at the limit (a ranked subquery joined to
        # product was measured ~2x slower: it ranks every hit first).
        query = (
            query.select_from(_FTS)
            .join(Product, Product.id == _FTS.c.rowid)
            .where(literal_column("fts_product").op("MATCH")(bindparam("match", match)))
            .order_by(_FTS.c.rank)
        )
    elif terms:
        tsquery = func.to_tsquery(
            literal_column("'simple'::regconfig"), " & ".join(f"{term}:*" for term in terms)
        )
        vector: ColumnElement[Any] = literal_column("product.fts_vector")  # generated
        query = query.where(vector.op("@@")(tsquery)).order_by(
            func.ts_rank(vector, tsquery).desc(), Product.id.desc()
        )
    else:
        query = query.order_by(Product.updated_at.desc(), Product.id.desc())
    if status is not None:
        query = query.where(Product.status == status)
    if category_ids is not None:
        query = query.where(
            exists().where(
                ProductCategoryLink.product_id == Product.id,
                ProductCategoryLink.category_id.in_(list(category_ids)),
            )
        )
    if in_stock:
        query = query.where(
            exists().where(
                ProductVariant.product_id == Product.id,
                and_(
                    (ProductVariant.stock.is_(None)) | (ProductVariant.stock > 0),
                ),
            )
            | (Product.kind == "grouped")
        )
    rows = await session.scalars(query.limit(limit).offset(offset))
    return list(rows.all())


async def count_products(session: AsyncSession, workspace_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Product).where(Product.workspace_id == workspace_id)
        )
        or 0
    )


async def variants_with_products(
    session: AsyncSession, workspace_id: int, variant_ids: Sequence[int]
) -> list[tuple[ProductVariant, Product]]:
    if not variant_ids:
        return []
    rows = await session.execute(
        select(ProductVariant, Product)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(ProductVariant.workspace_id == workspace_id, ProductVariant.id.in_(variant_ids))
    )
    return [(v, p) for v, p in rows.all()]


async def take_stock(session: AsyncSession, variant_id: int, quantity: int) -> bool:
    """Takes stock only if that much is left, in one statement: two checkouts racing for
    the last item cannot both win (SQLite has one writer; PostgreSQL re-checks the WHERE
    on the row it waited for)."""
    result = await session.execute(
        update(ProductVariant)
        .where(
            ProductVariant.id == variant_id,
            ProductVariant.stock.is_not(None),
            ProductVariant.stock >= quantity,
        )
        .values(stock=ProductVariant.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def give_back_stock(session: AsyncSession, variant_id: int, quantity: int) -> None:
    await session.execute(
        update(ProductVariant)
        .where(ProductVariant.id == variant_id, ProductVariant.stock.is_not(None))
        .values(stock=ProductVariant.stock + quantity)
        .execution_options(synchronize_session=False)
    )


async def has_products(session: AsyncSession, workspace_id: int) -> bool:
    found = await session.scalar(
        select(Product.id).where(Product.workspace_id == workspace_id).limit(1)
    )
    return found is not None
