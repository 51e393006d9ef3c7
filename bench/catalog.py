"""Catalog search bench: `python -m bench catalog [--postgres] [--products N]`.

Generates N products (default 50,000) in one shop (plus a tenth as many in a second shop,
so the workspace filter has something to skip): Vietnamese fashion names with diacritics,
descriptions, categories, 1-4 variants with SKUs, option values and stock. Then, warm,
median of 15 runs per query, for queries a shopper types (without accents):

* bare: the engine's full-text query alone, first 20 ids (FTS5 MATCH / fts_vector @@ tsquery);
* bare ranked: the same ordered by relevance (bm25 / ts_rank), the fair baseline;
* repository.search: the one method the product uses (workspace, active status, ranked);
* service.search: the same plus the cards (prices, stock, first image, categories).

Ratios are to the bare ranked query of the same run. SQLite in a temporary directory by
default; --postgres uses a fresh schema, dropped at the end. Figures only, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from chatcart import migrate
from chatcart.catalog import repository, service
from chatcart.catalog.schemas import ProductQuery
from chatcart.catalog.text import search_document
from chatcart.config import Settings
from chatcart.kit.clock import utcnow
from chatcart.kit.db import create_engine, transaction
from chatcart.kit.textnorm import fold
from chatcart.models import Category, Product, ProductCategoryLink, ProductVariant
from chatcart.runtime import Runtime
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
KINDS = [
    ("Áo thun", "Áo"), ("Áo sơ mi", "Áo"), ("Áo polo", "Áo"), ("Áo khoác", "Áo khoác"),
    ("Áo len", "Áo khoác"), ("Quần jean", "Quần"), ("Quần tây", "Quần"), ("Quần short", "Quần"),
    ("Chân váy", "Chân váy"), ("Đầm", "Đầm"), ("Áo dài", "Áo dài"), ("Túi xách", "Phụ kiện"),
    ("Nón", "Phụ kiện"), ("Khăn", "Phụ kiện"), ("Thắt lưng", "Phụ kiện"), ("Giày", "Giày dép"),
    ("Dép", "Giày dép"), ("Bộ đồ ngủ", "Đồ ngủ"),
]  # fmt: skip
STYLES = [
    "basic", "oversize", "form rộng", "ôm body", "cổ tròn", "cổ tim", "tay lỡ", "tay dài",
    "ống rộng", "ống suông", "xếp ly", "hoa nhí", "kẻ sọc", "trơn", "thêu chữ", "in hình",
    "dự tiệc", "công sở", "đi biển", "thể thao", "vintage", "Hàn Quốc", "cao cấp", "giá rẻ",
]  # fmt: skip
MATERIALS = ["cotton", "linen", "lụa", "kaki", "denim", "len", "voan", "da", "nỉ", "thun lạnh"]
COLOURS = ["Trắng", "Đen", "Be", "Xám", "Xanh", "Đỏ", "Hồng", "Vàng", "Nâu", "Kem", "Xanh rêu"]
SIZES = ["S", "M", "L", "XL"]
QUERIES = [
    "ao thun", "ao thun den", "quan jean ong rong", "dam hoa nhi", "vay", "linen",
    "tui xach da", "ao dai lua", "sp-01234", "non", "giay the thao trang", "khong co gi",
]  # fmt: skip
RUNS = 15
LIMIT = 20


def _product(rng: random.Random, n: int) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    kind, category = rng.choice(KINDS)
    style, material = rng.choice(STYLES), rng.choice(MATERIALS)
    name = f"{kind} {material} {style}"
    description = (
        f"{kind} chất liệu {material}, kiểu {style}. Đường may chắc chắn, mặc thoải mái "
        f"cả ngày. Mã {n}."
    )
    colours = rng.sample(COLOURS, rng.randint(1, 2))
    sizes = rng.sample(SIZES, rng.randint(1, 2))
    variants = [
        {
            "sku": f"SP-{n:05d}-{fold(size)}-{fold(colour).replace(' ', '')}".upper(),
            "option_values": [size, colour],
            "price": rng.randrange(59, 990) * 1000,
            "stock": rng.choice([None, 0, 3, 10, 25]),
        }
        for size in sizes
        for colour in colours
    ]
    document = search_document(
        [name, description, f"Thời trang > {category}", *(v["sku"] for v in variants)]
        + [value for v in variants for value in v["option_values"]]
    )
    row = {
        "handle": f"sp-{n:05d}",
        "name": name,
        "description": description,
        "status": "active" if rng.random() > 0.1 else "draft",
        "kind": "variable",
        "currency": "VND",
        "option_names": ["Size", "Màu"],
        "tags": [],
        "source": "bench",
        "search_text": document,
    }
    return row, category, variants


async def generate(runtime: Runtime, workspace_id: int, count: int, seed: int) -> None:
    rng = random.Random(seed)
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        category_ids = {}
        for _, category in KINDS:
            if category not in category_ids:
                row = Category(
                    workspace_id=workspace_id, name=category, key=f"thoi trang > {fold(category)}"
                )
                session.add(row)
                await session.flush()
                category_ids[category] = row.id
    batch = 2000
    for start in range(0, count, batch):
        made = [_product(rng, n) for n in range(start, min(start + batch, count))]
        async with transaction(runtime.sessions) as session:
            ids = (
                await session.scalars(
                    insert(Product).returning(Product.id),
                    [
                        row | {"workspace_id": workspace_id, "created_at": now, "updated_at": now}
                        for row, _, _ in made
                    ],
                )
            ).all()
            await session.execute(
                insert(ProductCategoryLink),
                [
                    {"product_id": pid, "category_id": category_ids[category]}
                    for pid, (_, category, _) in zip(ids, made, strict=True)
                ],
            )
            await session.execute(
                insert(ProductVariant),
                [
                    v
                    | {
                        "workspace_id": workspace_id,
                        "product_id": pid,
                        "sku": v["sku"] if workspace_id == 1 else f"W{workspace_id}-{v['sku']}",
                        "position": i,
                        "created_at": now,
                        "compare_at_price": None,
                    }
                    for pid, (_, _, variants) in zip(ids, made, strict=True)
                    for i, v in enumerate(variants)
                ],
            )


def _bare(postgres: bool, ranked: bool, terms: list[str]) -> tuple[str, dict[str, str]]:
    if postgres:
        query = " & ".join(f"{t}:*" for t in terms)
        vector = "fts_vector"
        tsq = "to_tsquery('simple'::regconfig, :q)"
        order = f" ORDER BY ts_rank({vector}, {tsq}) DESC" if ranked else ""
        sql = f"SELECT id FROM product WHERE {vector} @@ {tsq}{order} LIMIT {LIMIT}"  # noqa: S608
        return sql, {"q": query}
    match = " ".join(f'"{t}"*' for t in terms)
    order = " ORDER BY bm25(fts_product)" if ranked else ""
    return (
        f"SELECT rowid FROM fts_product WHERE fts_product MATCH :q{order} LIMIT {LIMIT}",  # noqa: S608
        {"q": match},
    )


async def _timed(work: Callable[[], Awaitable[Any]]) -> float:
    await work()  # warm
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def measure(runtime: Runtime, workspace_id: int, postgres: bool) -> None:
    print(
        f"  {'query':<24}{'hits':>7}{'bare':>9}{'ranked':>9}{'repo':>9}{'cards':>9}"
        f"{'repo/ranked':>13}{'cards/ranked':>14}"
    )
    ratios: list[tuple[float, float]] = []
    async with runtime.sessions() as session:
        for words in QUERIES:
            terms = repository.search_terms(fold(words))
            hits_sql, params = _bare(postgres, False, terms)
            count_sql = hits_sql.replace(f" LIMIT {LIMIT}", "")
            hits = len((await session.execute(text(count_sql), params)).all())
            bare_sql, _ = _bare(postgres, False, terms)
            ranked_sql, _ = _bare(postgres, True, terms)

            async def bare(sql: str = bare_sql, p: dict[str, str] = params) -> Any:
                return (await session.execute(text(sql), p)).all()

            async def ranked(sql: str = ranked_sql, p: dict[str, str] = params) -> Any:
                return (await session.execute(text(sql), p)).all()

            async def repo(w: str = words) -> Any:
                return await repository.search(
                    session, workspace_id, fold(w), status="active", limit=LIMIT
                )

            async def cards(w: str = words) -> Any:
                query = ProductQuery(q=w, status="active", limit=LIMIT)
                return await service.search(session, workspace_id, query)

            t_bare, t_ranked = await _timed(bare), await _timed(ranked)
            t_repo, t_cards = await _timed(repo), await _timed(cards)
            ratios.append((t_repo / t_ranked, t_cards / t_ranked))
            print(
                f"  {words:<24}{hits:>7}{t_bare:>8.2f}m{t_ranked:>8.2f}m{t_repo:>8.2f}m"
                f"{t_cards:>8.2f}m{t_repo / t_ranked:>12.2f}x{t_cards / t_ranked:>13.2f}x"
            )
    repo_ratio = statistics.median(r for r, _ in ratios)
    cards_ratio = statistics.median(c for _, c in ratios)
    print(
        f"  median ratio to the bare ranked FTS query: repository.search {repo_ratio:.2f}x, "
        f"service.search (cards) {cards_ratio:.2f}x   (times: median of {RUNS}, ms)"
    )


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def main(postgres: bool, products: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{secrets.token_hex(4)}" if postgres else None
        if schema:
            await _admin(PG_URL, f"CREATE SCHEMA {schema}")
        try:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                data_dir=Path(tmp),
                database_url=PG_URL if postgres else f"sqlite+aiosqlite:///{tmp}/bench.db",
                database_schema=schema,
                secret_key="bench",  # noqa: S106 (throwaway database)
            )
            await asyncio.to_thread(migrate.upgrade, settings.database_url, schema=schema)
            runtime = Runtime.open(settings)
            try:
                await _run(runtime, postgres, products)
            finally:
                await runtime.close()
        finally:
            if schema:
                await _admin(PG_URL, f"DROP SCHEMA {schema} CASCADE")


async def _run(runtime: Runtime, postgres: bool, products: int) -> None:
    shape = "PostgreSQL" if postgres else "SQLite FTS5"
    async with transaction(runtime.sessions) as session:
        shop = await workspaces.create(session, WorkspaceCreate(name="Bench", slug="bench"))
        other = await workspaces.create(session, WorkspaceCreate(name="Other", slug="other"))
    extra = products // 10
    print(f"catalog search bench on {shape}: {products:,} products (+{extra:,} in a second shop)")
    started = time.perf_counter()
    await generate(runtime, shop.id, products, seed=1)
    await generate(runtime, other.id, products // 10, seed=2)
    async with runtime.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("VACUUM ANALYZE" if postgres else "ANALYZE")
        total = (await conn.execute(select(Product.id).limit(1))).first()
    assert total is not None
    print(f"  generation: {time.perf_counter() - started:.1f} s")
    await measure(runtime, shop.id, postgres)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench catalog", description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--products", type=int, default=50_000)
    args = parser.parse_args(argv)
    asyncio.run(main(args.postgres, args.products))


if __name__ == "__main__":
    run(sys.argv[1:])
