"""An import from start to end: read every row, then write product by product. A product
with a problem on any of its rows is skipped whole and listed; the others import."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart.catalog import service
from chatcart.catalog.importing import shopify, woocommerce
from chatcart.catalog.importing.reader import Draft, decode
from chatcart.catalog.schemas import ImportFormat, ImportReport, RowProblem
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError

# Products written per transaction: short write locks on SQLite, few commits elsewhere.
CHUNK = 100


def read(
    data: bytes, fmt: ImportFormat, currency: str
) -> tuple[list[Draft], list[RowProblem], int]:
    text = decode(data)
    if fmt == "woocommerce":
        return woocommerce.parse(text, currency)
    if fmt == "shopify":
        return shopify.parse(text, currency, shopify.SHOPIFY, "shopify")
    return shopify.parse(text, currency, shopify.CHATCART, "chatcart")


async def run(
    sessions: async_sessionmaker[AsyncSession],
    workspace_id: int,
    data: bytes,
    fmt: ImportFormat,
    currency: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    started = time.monotonic()
    drafts, loose, rows = read(data, fmt, currency)
    report = ImportReport(format=fmt, rows=rows, products=len(drafts), errors=list(loose))
    # Grouped products last: they point at products of the same file.
    ordered = sorted(drafts, key=lambda d: d.fields.get("kind") == "grouped")
    for start in range(0, len(ordered), CHUNK):
        async with transaction(sessions) as session:
            for draft in ordered[start : start + CHUNK]:
                await _write(session, workspace_id, draft, report)
        if progress is not None:
            progress(min(start + CHUNK, len(ordered)), len(ordered))
    report.errors.sort(key=lambda p: p.line)
    report.duration = time.monotonic() - started
    return report


async def _write(
    session: AsyncSession, workspace_id: int, draft: Draft, report: ImportReport
) -> None:
    product = draft.build()
    if product is None:
        report.skipped += 1
        report.errors.extend(draft.problems)
        return
    try:
        async with session.begin_nested():  # nothing half-written if the product fails
            saved = await service.save_product(session, workspace_id, product, match_handle=True)
    except AppError as exc:
        report.skipped += 1
        report.errors.append(RowProblem(line=draft.line, column=None, problem=exc.message))
        return
    if saved.created:
        report.created += 1
    else:
        report.updated += 1
    for handle in saved.missing_children:
        report.warnings.append(
            RowProblem(
                line=draft.line,
                column="Grouped products",
                problem=f"{handle!r} is not a product of this shop: left out of the group",
            )
        )
