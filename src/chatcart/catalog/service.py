"""The catalog room's only door: products with variants, categories, images, search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart.catalog import repository
from chatcart.catalog.errors import (
    CategoryNotFound,
    HandleTaken,
    ProductNotFound,
    SkuTaken,
)
from chatcart.catalog.schemas import (
    CategoryOut,
    ImageIn,
    ImageOut,
    ImportFormat,
    ImportReport,
    ProductCard,
    ProductIn,
    ProductOut,
    ProductQuery,
    ProductStatus,
    VariantForSale,
    VariantIn,
    VariantOut,
)
from chatcart.catalog.storage import MEDIA_PREFIX, ImageStore
from chatcart.catalog.text import category_key, search_document, slugify, split_path
from chatcart.kit import config_cache
from chatcart.kit.clock import utcnow
from chatcart.kit.money import format_minor
from chatcart.kit.textnorm import fold
from chatcart.models import Category, Product, ProductImage, ProductVariant

# The shop's money when nothing else says: a Vietnamese shop sells in dong.
CURRENCY_BY_REGION = {"VN": "VND", "PH": "PHP"}


def default_currency(region: str) -> str:
    return CURRENCY_BY_REGION.get(region.upper(), "USD")


@dataclass
class Saved:
    product: ProductOut
    created: bool
    missing_children: list[str] = field(default_factory=list)


# ---- categories ---------------------------------------------------------------------------


async def ensure_category(session: AsyncSession, workspace_id: int, path: str) -> int:
    """The id of the category at "Parent > Child", creating what is missing."""
    parts = split_path(path)
    if not parts:
        raise CategoryNotFound("the category name is empty")
    parent_id: int | None = None
    for depth in range(1, len(parts) + 1):
        key = category_key(parts[:depth])
        row = await repository.category_by_key(session, workspace_id, key)
        if row is None:
            row = Category(
                workspace_id=workspace_id, parent_id=parent_id, name=parts[depth - 1], key=key
            )
            session.add(row)
            await session.flush()
        parent_id = row.id
    assert parent_id is not None
    return parent_id


async def list_categories(session: AsyncSession, workspace_id: int) -> list[CategoryOut]:
    """Every category with its path, depth and product count, in tree order."""
    rows = await repository.categories(session, workspace_id)
    counts = await repository.category_counts(session, workspace_id)
    by_id = {row.id: row for row in rows}

    def path_of(row: Category) -> list[str]:
        names = [row.name]
        parent = by_id.get(row.parent_id) if row.parent_id else None
        while parent is not None:
            names.insert(0, parent.name)
            parent = by_id.get(parent.parent_id) if parent.parent_id else None
        return names

    out = []
    for row in rows:
        path = path_of(row)
        out.append(
            CategoryOut(
                id=row.id,
                name=row.name,
                key=row.key,
                parent_id=row.parent_id,
                path=" > ".join(path),
                depth=len(path) - 1,
                product_count=counts.get(row.id, 0),
            )
        )
    return sorted(out, key=lambda c: fold(c.path))


async def delete_category(session: AsyncSession, workspace_id: int, category_id: int) -> None:
    """Removes the category and its subcategories; their products stay, uncategorised."""
    row = await repository.category(session, workspace_id, category_id)
    if row is None:
        raise CategoryNotFound(f"no category {category_id}")
    await session.delete(row)
    await session.flush()


def _with_descendants(categories: Sequence[CategoryOut], category_id: int) -> list[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for c in categories:
        children[c.parent_id].append(c.id)
    found, todo = [], [category_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


# ---- products -----------------------------------------------------------------------------


def _image_url(image: ProductImage, store: ImageStore | None = None) -> str:
    if image.storage_key:
        return store.url(image.storage_key) if store else MEDIA_PREFIX + image.storage_key
    return image.url or ""


def _variant_out(variant: ProductVariant, currency: str) -> VariantOut:
    compare = variant.compare_at_price
    return VariantOut(
        id=variant.id,
        sku=variant.sku,
        option_values=list(variant.option_values),
        price=variant.price,
        compare_at_price=compare,
        stock=variant.stock,
        image_id=variant.image_id,
        price_text=format_minor(variant.price, currency),
        compare_at_text=format_minor(compare, currency)
        if compare is not None and compare > variant.price
        else None,
    )


async def get_product(session: AsyncSession, workspace_id: int, product_id: int) -> ProductOut:
    row = await repository.product(session, workspace_id, product_id)
    if row is None:
        raise ProductNotFound(f"no product {product_id}")
    return await _product_out(session, row)


async def find_by_handle(
    session: AsyncSession, workspace_id: int, handle: str
) -> ProductOut | None:
    row = await repository.product_by_handle(session, workspace_id, handle)
    return await _product_out(session, row) if row is not None else None


async def _product_out(session: AsyncSession, row: Product) -> ProductOut:
    variants = await repository.variants_of(session, [row.id])
    images = await repository.images_of(session, [row.id])
    links = {c for _, c in await repository.category_links(session, [row.id])}
    categories = [c for c in await list_categories(session, row.workspace_id) if c.id in links]
    grouped: list[ProductCard] = []
    if row.kind == "grouped":
        ids = await repository.group_items(session, row.id)
        members = {p.id: p for p in await _cards_for_ids(session, row.workspace_id, ids)}
        grouped = [members[i] for i in ids if i in members]
    return ProductOut(
        id=row.id,
        handle=row.handle,
        name=row.name,
        description=row.description,
        status=row.status,
        kind=row.kind,
        currency=row.currency,
        option_names=list(row.option_names),
        tags=list(row.tags),
        external_url=row.external_url,
        source=row.source,
        categories=categories,
        images=[
            ImageOut(id=i.id, url=_image_url(i), alt=i.alt, uploaded=bool(i.storage_key))
            for i in images
        ],
        variants=[_variant_out(v, row.currency) for v in variants],
        grouped=grouped,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _unique_handle(session: AsyncSession, workspace_id: int, wanted: str) -> str:
    handle, n = wanted, 1
    while await repository.product_by_handle(session, workspace_id, handle) is not None:
        n += 1
        handle = f"{wanted}-{n}"
    return handle


async def save_product(
    session: AsyncSession,
    workspace_id: int,
    data: ProductIn,
    *,
    product_id: int | None = None,
    match_handle: bool = False,
) -> Saved:
    """Create a product, or replace one's fields and variants (by id; or, for imports, by
    handle). Variants are kept by SKU, else by option values, so their ids survive edits.
    Images are replaced only when data.images is given (imports); the admin uploads them
    one by one."""
    row: Product | None = None
    if product_id is not None:
        row = await repository.product(session, workspace_id, product_id)
        if row is None:
            raise ProductNotFound(f"no product {product_id}")
    wanted = slugify(data.handle) if data.handle else None
    if row is None and match_handle and wanted:
        row = await repository.product_by_handle(session, workspace_id, wanted)
    if wanted and row is not None and wanted != row.handle:
        other = await repository.product_by_handle(session, workspace_id, wanted)
        if other is not None:
            raise HandleTaken(f"another product already has the handle {wanted!r}")
    skus = [v.sku for v in data.variants if v.sku]
    owners = await repository.sku_owners(session, workspace_id, skus)
    if row is None and match_handle and owners:
        # Re-import of a product whose handle changed: its SKUs still say which it is.
        owner_ids = {owner_id for owner_id, _ in owners.values()}
        if len(owner_ids) == 1:
            row = await repository.product(session, workspace_id, owner_ids.pop())
    for sku in skus:
        owner_id, owner_handle = owners.get(sku, (None, ""))
        if owner_id is not None and (row is None or owner_id != row.id):
            raise SkuTaken(f"SKU {sku!r} already belongs to product {owner_handle!r}", sku=sku)
    created = row is None
    now = utcnow()
    if row is None:
        handle = await _unique_handle(session, workspace_id, wanted or slugify(data.name))
        row = Product(workspace_id=workspace_id, handle=handle, created_at=now)
        session.add(row)
    elif wanted:
        row.handle = wanted
    row.name = data.name
    row.description = data.description
    row.status = data.status
    row.kind = data.kind
    row.currency = data.currency
    row.option_names = list(data.option_names)
    row.tags = list(data.tags)
    row.external_url = data.external_url or None
    row.source = data.source
    row.updated_at = now
    await session.flush()
    category_ids = {await ensure_category(session, workspace_id, p) for p in data.categories}
    await repository.set_categories(session, row.id, category_ids)
    urls = await _sync_images(session, row, data.images)
    await _sync_variants(session, row, data.variants, urls)
    missing: list[str] = []
    if data.kind == "grouped":
        wanted_children = [slugify(h) for h in data.grouped_handles]
        found = await repository.products_by_handles(session, workspace_id, wanted_children)
        missing = [h for h in wanted_children if h not in found]
        await repository.set_group_items(
            session, row.id, [found[h] for h in wanted_children if h in found]
        )
    paths = [c.path for c in await list_categories(session, workspace_id) if c.id in category_ids]
    row.search_text = search_document(
        [
            row.name,
            row.handle,
            row.description,
            *paths,
            *row.tags,
            *skus,
            *(value for v in data.variants for value in v.option_values),
        ]
    )
    await session.flush()
    return Saved(await _product_out(session, row), created, missing)


async def _sync_images(
    session: AsyncSession, row: Product, images: list[ImageIn] | None
) -> dict[str, int]:
    """Makes the product's images those given (in order); returns url -> image id."""
    current = await repository.images_of(session, [row.id])
    if images is None:
        return {_image_url(i): i.id for i in current}
    by_ref = {(i.url or "", i.storage_key or ""): i for i in current}
    kept: dict[str, int] = {}
    keep_ids = set()
    for position, wanted in enumerate(images):
        ref = (wanted.url or "", wanted.storage_key or "")
        image = by_ref.get(ref)
        if image is None:
            image = ProductImage(
                workspace_id=row.workspace_id,
                product_id=row.id,
                url=wanted.url,
                storage_key=wanted.storage_key,
            )
            session.add(image)
        image.alt = wanted.alt
        image.position = position
        await session.flush()
        keep_ids.add(image.id)
        if image.url:
            kept[image.url] = image.id
        if image.storage_key:  # variants name uploaded pictures by their /media/ address
            kept[MEDIA_PREFIX + image.storage_key] = image.id
    for image in current:
        if image.id not in keep_ids:
            await session.delete(image)
    return kept


async def _sync_variants(
    session: AsyncSession, row: Product, variants: list[VariantIn], image_ids: dict[str, int]
) -> None:
    current = await repository.variants_of(session, [row.id])
    by_sku = {v.sku: v for v in current if v.sku}
    by_combo = {tuple(fold(x) for x in v.option_values): v for v in current}
    used: set[int] = set()
    for position, wanted in enumerate(variants):
        combo = tuple(fold(x) for x in wanted.option_values)
        variant = by_sku.get(wanted.sku) if wanted.sku else None
        if variant is None:
            candidate = by_combo.get(combo)
            if candidate is not None and candidate.id not in used:
                variant = candidate
        if variant is None:
            variant = ProductVariant(workspace_id=row.workspace_id, product_id=row.id)
            session.add(variant)
        variant.sku = wanted.sku
        variant.option_values = list(wanted.option_values)
        variant.price = wanted.price
        variant.compare_at_price = wanted.compare_at_price
        variant.stock = wanted.stock
        variant.position = position
        if wanted.image_url is not None:
            variant.image_id = image_ids.get(wanted.image_url)
        # A SKU moving between variants of this product must leave its old row first.
        await session.flush()
        used.add(variant.id)
    for variant in current:
        if variant.id not in used:
            await session.delete(variant)
    await session.flush()


async def set_status(
    session: AsyncSession, workspace_id: int, product_id: int, status: ProductStatus
) -> None:
    row = await repository.product(session, workspace_id, product_id)
    if row is None:
        raise ProductNotFound(f"no product {product_id}")
    row.status = status
    row.updated_at = utcnow()


async def delete_product(
    session: AsyncSession, workspace_id: int, product_id: int, store: ImageStore | None = None
) -> None:
    row = await repository.product(session, workspace_id, product_id)
    if row is None:
        raise ProductNotFound(f"no product {product_id}")
    keys = [i.storage_key for i in await repository.images_of(session, [row.id]) if i.storage_key]
    await session.delete(row)
    await session.flush()
    if store is not None:
        for key in keys:
            await store.delete(key)


async def add_image(
    session: AsyncSession,
    store: ImageStore,
    workspace_id: int,
    product_id: int,
    data: bytes,
    alt: str = "",
) -> ImageOut:
    row = await repository.product(session, workspace_id, product_id)
    if row is None:
        raise ProductNotFound(f"no product {product_id}")
    key = await store.save(workspace_id, data)
    position = len(await repository.images_of(session, [row.id]))
    image = ProductImage(
        workspace_id=workspace_id,
        product_id=row.id,
        storage_key=key,
        alt=alt[:300],
        position=position,
    )
    session.add(image)
    row.updated_at = utcnow()
    await session.flush()
    return ImageOut(id=image.id, url=store.url(key), alt=image.alt, uploaded=True)


async def remove_image(
    session: AsyncSession, store: ImageStore, workspace_id: int, image_id: int
) -> None:
    image = await repository.image(session, workspace_id, image_id)
    if image is None:
        raise ProductNotFound(f"no image {image_id}")
    key = image.storage_key
    await session.delete(image)
    await session.flush()
    if key:
        await store.delete(key)


async def seed_demo(session: AsyncSession, store: ImageStore, workspace_id: int) -> int:
    """The demo shop's Vietnamese fashion catalog, once per workspace; returns how many."""
    from chatcart.catalog import demo_data

    return await demo_data.seed(session, store, workspace_id)


# ---- stock (for orders) -------------------------------------------------------------------


async def variants_for_sale(
    session: AsyncSession, workspace_id: int, variant_ids: Sequence[int]
) -> dict[int, VariantForSale]:
    rows = await repository.variants_with_products(session, workspace_id, variant_ids)
    return {
        v.id: VariantForSale(
            variant_id=v.id,
            product_id=p.id,
            product_name=p.name,
            variant_title=" / ".join(x for x in v.option_values if x),
            sku=v.sku,
            status=p.status,
            currency=p.currency,
            price=v.price,
            stock=v.stock,
        )
        for v, p in rows
    }


async def reserve_stock(session: AsyncSession, variant_id: int, quantity: int) -> bool:
    """Takes `quantity` from a tracked variant's stock if that much is left (atomic)."""
    return await repository.take_stock(session, variant_id, quantity)


async def release_stock(session: AsyncSession, variant_id: int, quantity: int) -> None:
    await repository.give_back_stock(session, variant_id, quantity)


# ---- import -------------------------------------------------------------------------------


async def import_csv(
    sessions: async_sessionmaker[AsyncSession],
    workspace_id: int,
    data: bytes,
    fmt: ImportFormat,
    currency: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a WooCommerce or Shopify product export, or chatcart's own CSV. Each product
    imports whole or not at all; the report lists every problem by line and column."""
    from chatcart.catalog.importing import run  # the importers call this module back

    return await run.run(sessions, workspace_id, data, fmt, currency, progress)


# ---- listing and search -------------------------------------------------------------------


async def has_products(session: AsyncSession, workspace_id: int) -> bool:
    """Whether the shop has any product at all (a chat need not search an empty catalog)."""
    return await config_cache.cached(
        session,
        workspace_id,
        "catalog.has_products",
        lambda: repository.has_products(session, workspace_id),
    )


async def search(
    session: AsyncSession, workspace_id: int, query: ProductQuery
) -> list[ProductCard]:
    """Products by words (accents optional: "ao thun" finds "Áo thun"), category (with its
    subcategories) and status, as cards."""
    category_ids = None
    if query.category_id is not None:
        category_ids = _with_descendants(
            await list_categories(session, workspace_id), query.category_id
        )
    rows = await repository.search(
        session,
        workspace_id,
        fold(query.q) if query.q else None,
        category_ids=category_ids,
        status=query.status,
        in_stock=query.in_stock,
        limit=query.limit,
        offset=query.offset,
    )
    return await _cards(session, rows)


async def count_products(session: AsyncSession, workspace_id: int) -> int:
    return await repository.count_products(session, workspace_id)


async def cards_by_ids(
    session: AsyncSession, workspace_id: int, ids: Sequence[int]
) -> list[ProductCard]:
    """Cards of these products (of this workspace), in no particular order."""
    return await _cards_for_ids(session, workspace_id, ids)


async def _cards_for_ids(
    session: AsyncSession, workspace_id: int, ids: Sequence[int]
) -> list[ProductCard]:
    return await _cards(session, await repository.products_by_ids(session, workspace_id, ids))


async def _cards(session: AsyncSession, rows: Sequence[Product]) -> list[ProductCard]:
    ids = [r.id for r in rows]
    variants: dict[int, list[ProductVariant]] = defaultdict(list)
    for v in await repository.variants_of(session, ids):
        variants[v.product_id].append(v)
    first_image: dict[int, ProductImage] = {}
    for found in await repository.images_of(session, ids):
        first_image.setdefault(found.product_id, found)
    names: dict[int, list[str]] = defaultdict(list)
    links = await repository.category_links(session, ids)
    if links:
        workspace_id = rows[0].workspace_id
        by_id = {c.id: c.name for c in await repository.categories(session, workspace_id)}
        for product_id, category_id in links:
            names[product_id].append(by_id.get(category_id, ""))
    cards = []
    for row in rows:
        own = variants.get(row.id, [])
        prices = [v.price for v in own]
        tracked = [v.stock for v in own if v.stock is not None]
        compare = [v.compare_at_price for v in own if v.compare_at_price is not None]
        image = first_image.get(row.id)
        cards.append(
            ProductCard(
                id=row.id,
                handle=row.handle,
                name=row.name,
                status=row.status,
                kind=row.kind,
                currency=row.currency,
                min_price=min(prices) if prices else None,
                max_price=max(prices) if prices else None,
                compare_at_price=max(compare) if compare else None,
                image_url=_image_url(image) if image else None,
                in_stock=row.kind == "grouped" or any(v.stock is None or v.stock > 0 for v in own),
                stock=sum(tracked) if tracked else None,
                variant_count=len(own),
                categories=sorted(names.get(row.id, []), key=fold),
                updated_at=row.updated_at,
            )
        )
    return cards
