"""The segments room's queries (the only place in the room that builds them, with compiler.py
building the audience select that these run)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Result,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatcart.kit.db import UTCDateTime
from chatcart.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    ContactPoint,
    ContactTag,
    FieldDefinition,
    Segment,
    SegmentMember,
    Tag,
)
from chatcart.segments.audience import Audience
from chatcart.segments.schemas import Catalog, ContactSort, FieldSpec

CHUNK = 500  # values per IN (...) list
_Ts = TypeVarTuple("_Ts")


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- definitions and saved segments ------------------------------------------------------


async def field_specs(session: AsyncSession, workspace_id: int) -> dict[str, FieldSpec]:
    rows = await session.execute(
        select(
            FieldDefinition.id, FieldDefinition.key, FieldDefinition.type, FieldDefinition.choices
        ).where(FieldDefinition.workspace_id == workspace_id)
    )
    return {
        key: FieldSpec(id=id_, key=key, type=type_, choices=tuple(choices) if choices else None)
        for id_, key, type_, choices in rows.all()
    }


def plans_by_value(session: AsyncSession) -> bool:
    """Whether the engine's planner weighs a value against its statistics (PostgreSQL's
    most-common values: `tag_id = 7` is estimated from how many contacts carry tag 7).
    SQLite's ANALYZE keeps averages only (sqlite_stat1; STAT4 is not compiled into
    Python's SQLite), so ids written into its SQL tell it nothing that a subquery on tag /
    channel_account does not, and looking them up would cost a statement."""
    return session.get_bind().dialect.name != "sqlite"


# Catalogs looked up lately, per (workspace, tag keys, accounts): the first page compiles
# with one without a statement, checked inside its own (compiler.catalog_unchanged).
_CATALOGS: dict[tuple[int, tuple[str, ...], bool], Catalog] = {}
CATALOGS_KEPT = 1024


def forget() -> None:
    """Drop every catalog and window edge remembered (the next calls look them up)."""
    _CATALOGS.clear()
    _EDGES.clear()


def remembered_catalog(
    workspace_id: int, tag_keys: Sequence[str], accounts: bool
) -> Catalog | None:
    """What catalog() last found for the same question in this process (maybe out of date)."""
    return _CATALOGS.get((workspace_id, tuple(sorted(set(tag_keys))), accounts))


async def catalog(
    session: AsyncSession, workspace_id: int, tag_keys: Sequence[str], accounts: bool
) -> Catalog:
    """The tag ids of these folded names and, if `accounts`, every channel account id by
    kind: one statement (two for over CHUNK tag names), since a count pays for each.
    Remembered (remembered_catalog)."""
    found = await _catalog(session, workspace_id, tag_keys, accounts)
    key = (workspace_id, tuple(sorted(set(tag_keys))), accounts)
    _CATALOGS.pop(key, None)
    _CATALOGS[key] = found
    while len(_CATALOGS) > CATALOGS_KEPT:
        _CATALOGS.pop(next(iter(_CATALOGS)))  # the longest unrefreshed
    return found


async def _catalog(
    session: AsyncSession, workspace_id: int, tag_keys: Sequence[str], accounts: bool
) -> Catalog:
    tags: dict[str, int] = {}
    by_kind: dict[str, list[int]] = defaultdict(list)
    chunks = list(_chunks(sorted(set(tag_keys)))) or [[]]
    for n, chunk in enumerate(chunks):
        parts: list[Select[str, str, int]] = []
        if chunk:
            parts.append(
                select(literal("tag"), Tag.key, Tag.id).where(
                    Tag.workspace_id == workspace_id, Tag.key.in_(chunk)
                )
            )
        if accounts and n == 0:
            parts.append(
                select(literal("account"), ChannelAccount.kind, ChannelAccount.id).where(
                    ChannelAccount.workspace_id == workspace_id
                )
            )
        if not parts:
            continue
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        for what, key, found_id in (await session.execute(query)).all():
            if what == "tag":
                tags[key] = found_id
            else:
                by_kind[key].append(found_id)
    return Catalog(tags=tags, accounts={k: tuple(v) for k, v in by_kind.items()})


async def segment(session: AsyncSession, workspace_id: int, segment_id: int) -> Segment | None:
    return await session.scalar(
        select(Segment).where(Segment.id == segment_id, Segment.workspace_id == workspace_id)
    )


async def segment_by_name(session: AsyncSession, workspace_id: int, name: str) -> Segment | None:
    return await session.scalar(
        select(Segment).where(Segment.workspace_id == workspace_id, Segment.name == name)
    )


async def segments(session: AsyncSession, workspace_id: int) -> list[Segment]:
    rows = await session.scalars(
        select(Segment).where(Segment.workspace_id == workspace_id).order_by(Segment.name)
    )
    return list(rows.all())


async def add_segment(session: AsyncSession, row: Segment) -> Segment:
    session.add(row)
    await session.flush()
    return row


async def delete_segment(session: AsyncSession, row: Segment) -> None:
    await session.execute(delete(SegmentMember).where(SegmentMember.segment_id == row.id))
    await session.delete(row)
    await session.flush()


async def member_counts(session: AsyncSession, segment_ids: Sequence[int]) -> dict[int, int]:
    """Rows in segment_member per static segment (what the ID list put in)."""
    counts: dict[int, int] = {}
    for chunk in _chunks(segment_ids):
        rows = await session.execute(
            select(SegmentMember.segment_id, func.count())
            .where(SegmentMember.segment_id.in_(chunk))
            .group_by(SegmentMember.segment_id)
        )
        counts.update({segment_id: count for segment_id, count in rows.all()})
    return counts


async def add_members(session: AsyncSession, segment_id: int, contact_ids: Sequence[int]) -> None:
    for chunk in _chunks(sorted(contact_ids), 1000):
        await session.execute(
            insert(SegmentMember),
            [{"segment_id": segment_id, "contact_id": contact_id} for contact_id in chunk],
        )


# --- audiences ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def static_members(workspace_id: int, segment_id: int) -> Audience:
    """The audience of a static segment: its members that still exist and are not merged
    (kept per segment: see audience.py)."""
    return Audience(
        select(Contact.id).where(
            Contact.workspace_id == workspace_id,
            Contact.merged_into_id.is_(None),
            Contact.id.in_(
                select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id)
            ),
        )
    )


@lru_cache(maxsize=256)
def all_contacts(workspace_id: int) -> Audience:
    """Everyone in the workspace (kept per workspace: GET /contacts runs it on every page)."""
    return Audience(
        select(Contact.id).where(
            Contact.workspace_id == workspace_id, Contact.merged_into_id.is_(None)
        )
    )


def contact_id_in(audience: Select[int]) -> ColumnElement[bool]:
    return Contact.id.in_(audience)


def searched(audience: Select[int], tokens: Sequence[str], phone: str | None) -> Select[int]:
    """Contacts whose folded search text holds every token (or who have this phone)."""
    if not tokens and phone is None:
        return audience
    conditions: list[ColumnElement[bool]] = []
    if tokens:
        conditions.append(
            and_(*(Contact.search_text.contains(token, autoescape=True) for token in tokens))
        )
    if phone is not None:
        conditions.append(
            Contact.id.in_(
                select(ContactPoint.contact_id).where(
                    ContactPoint.kind == "phone",
                    ContactPoint.value == phone,
                    ContactPoint.valid.is_(True),
                )
            )
        )
    return audience.where(or_(*conditions))


async def count(session: AsyncSession, audience: Audience) -> int:
    query = audience.derive(
        "count", lambda select: select.with_only_columns(func.count(), maintain_column_froms=True)
    )
    return int(await session.scalar(query, audience.params) or 0)


_SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "-last_interaction_at": (Contact.last_interaction_at.desc().nulls_last(), Contact.id.desc()),
    "last_interaction_at": (Contact.last_interaction_at.asc().nulls_last(), Contact.id.asc()),
    "-created_at": (Contact.created_at.desc(), Contact.id.desc()),
    "created_at": (Contact.created_at.asc(), Contact.id.asc()),
    "name": (Contact.name.asc(), Contact.id.asc()),
    "-name": (Contact.name.desc(), Contact.id.desc()),
    "-total_spent": (Contact.total_spent.desc(), Contact.id.desc()),
    "-order_count": (Contact.order_count.desc(), Contact.id.desc()),
}


def _inline(count: int) -> ColumnElement[int]:
    """A LIMIT / OFFSET written into the SQL, not bound: PostgreSQL plans a prepared
    statement for any parameter values after five runs (a generic plan), and a LIMIT it
    cannot see there is a LIMIT it cannot stop early for. The first page's generic plan
    then kept losing to a custom one that went parallel (40 ms instead of 3 on a busy
    machine). Written at compile time (a literal_execute parameter would make SQLAlchemy
    rewrite the SQL on every execution); the statements are kept per limit anyway
    (Audience.derive)."""
    return literal_column(str(int(count)), Integer)


_PAGE_COLUMNS = (Contact.id, Contact.name, Contact.last_interaction_at, Contact.created_at)


async def page(
    session: AsyncSession,
    audience: Audience,
    *,
    limit: int,
    offset: int = 0,
    sort: ContactSort = "-last_interaction_at",
) -> list[Row[int, str, Any, Any]]:
    """(id, name, last_interaction_at, created_at) of one page of the audience."""
    query = audience.derive(
        ("page", limit, offset, sort),
        lambda select: (
            select.with_only_columns(*_PAGE_COLUMNS)
            .order_by(*_SORTS[sort])
            .limit(_inline(limit))
            .offset(_inline(offset))
        ),
    )
    return list((await _columns(session, query, audience.params)).all())


# Below every interaction: the window's edge when the workspace has fewer interactions.
_NO_EDGE = literal(datetime(1, 1, 1, tzinfo=UTC), UTCDateTime())
_RECENT = aliased(Contact, name="recent")
_LATEST_FIRST = (Contact.last_interaction_at.desc(), Contact.id.desc())
_EDGE = bindparam("recent_edge", type_=UTCDateTime())
# Window edges found lately, per (workspace, window): (edge, when, on the monotonic clock).
_EDGES: dict[tuple[int, int], tuple[datetime, float]] = {}
EDGE_KEPT_SECONDS = 60.0
EDGES_KEPT = 4096


@lru_cache(maxsize=256)
def _edge_query(workspace_id: int, window: int) -> Select[datetime]:
    """The `window`-th latest interaction of the workspace (or a moment before any, when
    there are fewer). Merged contacts count too: the index then answers it alone, walked
    backwards, without reading a row (ix_contact_workspace_recent covers it)."""
    edge = (
        select(_RECENT.last_interaction_at)
        .where(_RECENT.workspace_id == workspace_id, _RECENT.last_interaction_at.is_not(None))
        .order_by(_RECENT.last_interaction_at.desc(), _RECENT.id.desc())
        .offset(_inline(window - 1))
        .limit(_inline(1))
        .scalar_subquery()
    )
    return select(func.coalesce(edge, _NO_EDGE))


def remembered_edge(workspace_id: int, window: int) -> datetime | None:
    """recent_edge's last answer for this workspace and window, if under EDGE_KEPT_SECONDS old."""
    found = _EDGES.get((workspace_id, window))
    if found is None or time.monotonic() - found[1] > EDGE_KEPT_SECONDS:
        return None
    return found[0]


async def recent_edge(session: AsyncSession, workspace_id: int, window: int) -> datetime:
    """The `window`-th latest interaction of the workspace now (remembered_edge)."""
    edge = await session.scalar(_edge_query(workspace_id, window))
    assert edge is not None
    key = (workspace_id, window)
    _EDGES.pop(key, None)
    _EDGES[key] = (edge, time.monotonic())
    while len(_EDGES) > EDGES_KEPT:
        _EDGES.pop(next(iter(_EDGES)))
    return edge


async def recent_page(
    session: AsyncSession, audience: Audience, *, limit: int, edge: datetime
) -> list[Row[int, str, Any, Any]] | None:
    """The audience's first `limit` contacts by latest interaction, looked for among the
    contacts who interacted at `edge` or later (recent_edge: the window-th latest moment);
    None when fewer than a page are there (the page may then hold contacts outside the
    window, or who never interacted).

    The window is a range of the recency index, from its top down to the edge; the audience
    is walked from the top, each predicate probed, until the page is full. The range is a
    prefix of the page's order (every contact at the edge's moment is in it), so a full page
    found there is the page, whatever the edge: an edge out of date (remembered_edge) only
    makes the walk longer or shorter. Plain DESC (no NULLS LAST: there are no NULLs in the
    range) lets both engines walk the index backwards."""
    query = audience.derive(
        ("recent", limit),
        lambda select: (
            select.where(Contact.last_interaction_at >= _EDGE)
            .with_only_columns(*_PAGE_COLUMNS)
            .order_by(*_LATEST_FIRST)
            .limit(_inline(limit))
        ),
    )
    result = await _columns(session, query, {**audience.params, "recent_edge": edge})
    rows = list(result.all())
    return rows if len(rows) == limit else None


async def _columns(
    session: AsyncSession, statement: Select[*_Ts], params: Mapping[str, Any]
) -> Result[*_Ts]:
    """A select of plain columns, run on the session's connection: the ORM's execute path
    adds nothing to rows of columns but ~0.08 ms (a tenth of a warm first page on
    PostgreSQL). Pending changes are flushed first, as the ORM would have."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        await session.flush()
    connection = await session.connection()
    return await connection.execute(statement, params)


async def phones_of(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(contact_ids):
        rows = await session.execute(
            select(ContactPoint.contact_id, ContactPoint.value)
            .where(
                ContactPoint.contact_id.in_(chunk),
                ContactPoint.kind == "phone",
                ContactPoint.valid.is_(True),
            )
            .order_by(ContactPoint.contact_id, ContactPoint.first_seen_at, ContactPoint.id)
        )
        for contact_id, value in rows.all():
            found[contact_id].append(value)
    return found


async def tags_of(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(contact_ids):
        rows = await session.execute(
            select(ContactTag.contact_id, Tag.name)
            .join(Tag, Tag.id == ContactTag.tag_id)
            .where(ContactTag.contact_id.in_(chunk))
            .order_by(ContactTag.contact_id, Tag.name)
        )
        for contact_id, name in rows.all():
            found[contact_id].append(name)
    return found


async def stream_ids(
    session: AsyncSession, audience: Audience, batch: int
) -> AsyncIterator[list[int]]:
    """The audience's ids, ascending, in lists of up to `batch`, from ONE query streamed
    through a server-side cursor (memory stays flat however many there are)."""
    query = audience.derive(
        ("ids", batch),
        lambda select: select.order_by(Contact.id).execution_options(yield_per=batch),
    )
    result = await session.stream_scalars(query, audience.params)
    try:
        async for part in result.partitions(batch):
            yield list(part)
    finally:
        await result.close()


# --- ID lists ----------------------------------------------------------------------------


async def contacts_by_external_ids(
    session: AsyncSession, workspace_id: int, external_ids: Sequence[str]
) -> list[tuple[str, int]]:
    """(external_id, contact_id) for identities on any channel account of the workspace."""
    found: list[tuple[str, int]] = []
    for chunk in _chunks(external_ids):
        rows = await session.execute(
            select(ContactIdentity.external_id, ContactIdentity.contact_id).where(
                # (channel_account_id, external_id) is the identity's unique index
                ContactIdentity.channel_account_id.in_(
                    select(ChannelAccount.id).where(ChannelAccount.workspace_id == workspace_id)
                ),
                ContactIdentity.external_id.in_(chunk),
            )
        )
        found.extend((external_id, contact_id) for external_id, contact_id in rows.all())
    return found


async def contacts_by_phones(
    session: AsyncSession, workspace_id: int, phones: Sequence[str]
) -> list[tuple[str, int]]:
    """(E.164, contact_id) for valid phone points of the workspace."""
    found: list[tuple[str, int]] = []
    for chunk in _chunks(phones):
        rows = await session.execute(
            select(ContactPoint.value, ContactPoint.contact_id).where(
                ContactPoint.workspace_id == workspace_id,
                ContactPoint.kind == "phone",
                ContactPoint.value.in_(chunk),
                ContactPoint.valid.is_(True),
            )
        )
        found.extend((value, contact_id) for value, contact_id in rows.all())
    return found


async def merged_into(
    session: AsyncSession, workspace_id: int, contact_ids: Sequence[int]
) -> dict[int, int | None]:
    """For each contact of the workspace: where it was merged into (None: it stands)."""
    found: dict[int, int | None] = {}
    for chunk in _chunks(contact_ids):
        rows = await session.execute(
            select(Contact.id, Contact.merged_into_id).where(
                Contact.workspace_id == workspace_id, Contact.id.in_(chunk)
            )
        )
        found.update({contact_id: target for contact_id, target in rows.all()})
    return found
