"""A process's cache of a workspace's slow-changing configuration (published flows, shop
settings, whether it has products), which every claimed inbound batch would otherwise read
again: three statements of a batch's ~18.

Entries are keyed by the workspace's stamp, (created_at, config_rev). Database triggers
bump `workspace.config_rev` whenever those rows change, whatever process writes them (the
admin, the CLI, another worker), and the created_at tells apart the workspaces of two
databases that share ids (tests). A reader that noted the stamp it read with the workspace
row (`note`) gets a value read at that revision or later: never an older one.

Only transactions that do not change the configuration themselves should note a stamp
(the inbound engine): a write in the same transaction would not move the noted stamp.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

Stamp = tuple[datetime, int]

_STAMPS = "config_cache.stamps"  # session.info key: {workspace_id: Stamp}
_SIZE = 4096  # entries; a few per active workspace
_VALUES: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()


def note(session: AsyncSession, workspace_id: int, stamp: Stamp) -> None:
    """This session read the workspace at `stamp`: its configuration may come from the
    cache for the rest of the session."""
    session.info.setdefault(_STAMPS, {})[workspace_id] = stamp


async def cached(
    session: AsyncSession, workspace_id: int, key: Hashable, load: Callable[[], Awaitable[T]]
) -> T:
    """`load()`'s value, from the cache when this session noted the workspace's stamp and
    the value was loaded at that stamp before. Values are shared: never mutate them."""
    stamp = session.info.get(_STAMPS, {}).get(workspace_id)
    if stamp is None:
        return await load()
    entry = (workspace_id, *stamp, key)
    if entry in _VALUES:
        _VALUES.move_to_end(entry)
        value: T = _VALUES[entry]
        return value
    value = await load()
    _VALUES[entry] = value
    if len(_VALUES) > _SIZE:
        _VALUES.popitem(last=False)
    return value
