"""Primary keys handed out before the INSERT.

A claimed batch links many new rows to each other (a reply to its message, a message to a
new conversation) and still writes each table with one statement at the end: the keys are
taken up front, in blocks. PostgreSQL: from the table's sequence (one query per block; a
gap left by a rollback is harmless). SQLite: every transaction here begins IMMEDIATE and
holds the only write lock, so nobody else can insert meanwhile; the block starts after the
table's highest key, read once per transaction.

Valid for one transaction: make a new `IdBlocks` for each.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

_LARGEST_BLOCK = 1024


class IdBlocks:
    def __init__(self, session: AsyncSession, first_block: int = 16) -> None:
        self._session = session
        self._first_block = max(16, min(first_block, _LARGEST_BLOCK))
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        self._free: dict[str, list[int]] = {}
        self._next_size: dict[str, int] = {}
        self._last: dict[str, int] = {}

    async def take(self, model: Any) -> int:
        """A fresh primary key for a row of `model` (an ORM class with an `id` column)."""
        table = model.__table__
        if self._sqlite:
            last = self._last.get(table.name)
            if last is None:
                found = await self._session.scalar(_highest((table,)))
                last = int(found or 0)
            self._last[table.name] = last + 1
            return last + 1
        free = self._free.setdefault(table.name, [])
        if not free:
            size = self._next_size.get(table.name, self._first_block)
            self._next_size[table.name] = min(size * 2, _LARGEST_BLOCK)
            rows = await self._session.scalars(_NEXTVALS, {"table": table.name, "size": size})
            free.extend(sorted(rows.all(), reverse=True))
        return int(free.pop())

    async def prefetch(self, *models: Any) -> None:
        """SQLite: read the highest key of several tables with one statement (a batch
        knows which tables it will add to); PostgreSQL: nothing to do ahead."""
        if not self._sqlite:
            return
        tables = [m.__table__ for m in models if m.__table__.name not in self._last]
        if not tables:
            return
        row = (await self._session.execute(_highest(tuple(tables)))).one()
        for table, found in zip(tables, row, strict=True):
            self._last[table.name] = int(found or 0)

    async def take_many(self, model: Any, count: int) -> list[int]:
        """`count` fresh keys for rows of `model`, in increasing order."""
        if count <= 0:
            return []
        if self._sqlite:
            first = await self.take(model)
            self._last[model.__table__.name] = first + count - 1
            return list(range(first, first + count))
        return [await self.take(model) for _ in range(count)]


@cache
def _highest(tables: tuple[Any, ...]) -> Any:
    """The highest key of each table, one statement (built once per set of tables)."""
    if len(tables) == 1:
        return select(func.max(tables[0].c.id))
    return select(*(select(func.max(t.c.id)).scalar_subquery() for t in tables))


# Built once (table and count as parameters): a batch takes a block for each table.
_NEXTVALS = text(
    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :size)"
)


_KEY = "chatcart.id_blocks"


def open_blocks(session: AsyncSession, expected: int = 0) -> IdBlocks:
    """Start handing out keys in this session's transaction (see `blocks_of`). `expected`:
    about how many rows a table gets (PostgreSQL: the first block is that large, so a
    claimed batch takes each table's keys with one query; unused keys are harmless gaps)."""
    blocks = IdBlocks(session, expected)
    session.info[_KEY] = blocks
    return blocks


def blocks_of(session: AsyncSession) -> IdBlocks | None:
    """The session's key blocks while a batch runs, else None (rows get keys on INSERT)."""
    found = session.info.get(_KEY)
    return found if isinstance(found, IdBlocks) else None


def close_blocks(session: AsyncSession) -> None:
    session.info.pop(_KEY, None)


_KEY_TEXT = re.compile(r"[0-9]{1,18}")  # ASCII digits that fit a BIGINT


def key_of(text: str) -> int | None:
    """A row key written in a payload a visitor sent back ("SHOP:P:42"): an int, or None
    for anything else (letters, "²", a number no BIGINT holds), so forged input finds no
    row instead of breaking the transaction."""
    return int(text) if _KEY_TEXT.fullmatch(text) else None
