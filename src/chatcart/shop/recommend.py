"""“You may also like”: products bought together with these, then products of the same
categories, never what is out of stock or already chosen; and the quiz's three picks."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.catalog import service as catalog
from chatcart.catalog.schemas import ProductCard, ProductQuery
from chatcart.kit.textnorm import fold
from chatcart.orders import service as orders


async def also_like(
    session: AsyncSession, workspace_id: int, product_ids: list[int], limit: int = 3
) -> list[ProductCard]:
    chosen = set(product_ids)
    picked: list[ProductCard] = []

    def keep(cards: list[ProductCard]) -> None:
        for card in cards:
            if len(picked) >= limit:
                return
            if card.id in chosen or not card.in_stock or card.status != "active":
                continue
            chosen.add(card.id)
            picked.append(card)

    together = await orders.bought_with(session, workspace_id, product_ids, limit * 3)
    if together:
        by_id = {c.id: c for c in await catalog.cards_by_ids(session, workspace_id, together)}
        keep([by_id[i] for i in together if i in by_id])
    if len(picked) < limit:
        for product_id in product_ids:
            product = await catalog.get_product(session, workspace_id, product_id)
            for category in product.categories:
                query = ProductQuery(category_id=category.id, status="active", in_stock=True)
                keep(await catalog.search(session, workspace_id, query))
    return picked


async def quiz_picks(
    session: AsyncSession,
    workspace_id: int,
    *,
    occasion: str,
    size: str,
    budget: int | None,
    limit: int = 3,
) -> tuple[list[ProductCard], bool]:
    """Up to three products for an occasion (words of the name, description, category or
    tags), with a variant in that size in stock, within the budget. False: nothing matched
    everything, so the cards are the closest (occasion only, then anything in stock)."""
    tries = [occasion, ""] if occasion else [""]
    for words in tries:
        query = ProductQuery(q=words or None, status="active", in_stock=True, limit=50)
        matching = []
        for card in await catalog.search(session, workspace_id, query):
            if budget is not None and (card.min_price or 0) > budget:
                continue
            if size and not await _has_size(session, workspace_id, card.id, size, budget):
                continue
            matching.append(card)
        if matching:
            return matching[:limit], words == occasion
    fallback = ProductQuery(status="active", in_stock=True, limit=limit)
    return await catalog.search(session, workspace_id, fallback), False


async def _has_size(
    session: AsyncSession, workspace_id: int, product_id: int, size: str, budget: int | None
) -> bool:
    product = await catalog.get_product(session, workspace_id, product_id)
    wanted = fold(size)
    return any(
        v.in_stock
        and (budget is None or v.price <= budget)
        and any(fold(value) == wanted for value in v.option_values)
        for v in product.variants
    )
