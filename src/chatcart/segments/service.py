"""The segments room's only door: saved segments, counts, previews, member streams, ID lists,
and the contact list that shares the same filter.

    create / get / list_segments / update / delete       saved segments of one workspace
    count(session, ws, segment_id | filter)              how many contacts now
    preview(session, ws, segment_id | filter, limit)     first page, latest interaction first
    iter_members(session, ws, segment_id | filter)       contact ids in pages (export, broadcasts)
    audience(session, ws, segment_id | filter)           the one select of Contact.id, to embed
                                                         (e.g. INSERT ... SELECT recipients)
    create_from_id_list(session, ws, IdListIn)           static segment from pasted ids / phones
    list_contacts(...)                                   GET /contacts: search + segment / filter

Services never commit (the request or task boundary does).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.clock import as_utc, utcnow
from chatcart.kit.contact_points import normalise_phone
from chatcart.kit.textnorm import fold
from chatcart.models import Segment
from chatcart.segments import compiler, repository
from chatcart.segments.audience import Audience
from chatcart.segments.errors import SegmentNameTaken, SegmentNotFound, StaticSegmentHasNoFilter
from chatcart.segments.schemas import (
    Catalog,
    ChannelRule,
    ContactRow,
    ContactSort,
    CountOut,
    FieldRule,
    FieldSpec,
    Filter,
    IdListIn,
    IdListOut,
    MessageableRule,
    PreviewOut,
    SegmentCreate,
    SegmentOut,
    SegmentUpdate,
    TagsRule,
    dump_filter,
    parse_filter,
    walk,
)
from chatcart.workspaces import service as workspaces

__all__ = [
    "audience",
    "count",
    "create",
    "create_from_id_list",
    "delete",
    "field_specs",
    "first_page",
    "get",
    "iter_members",
    "list_contacts",
    "list_segments",
    "preview",
    "update",
]

# What an audience is given as: a saved segment's id, a parsed filter, or raw filter data.
SegmentOrFilter = int | Filter | Mapping[str, Any]

MAX_SEARCH_TOKENS = 8
RECENT_WINDOW = 5000  # contacts the first page looks among first (see _first_page)
SHORT_WALK_KEPT_SECONDS = 60.0  # how long a sparse segment's first page skips the walk
_MERGE_HOPS = 5


async def field_specs(session: AsyncSession, workspace_id: int) -> dict[str, FieldSpec]:
    return await repository.field_specs(session, workspace_id)


# --- saved segments ----------------------------------------------------------------------


def _out(row: Segment, members: int | None = None) -> SegmentOut:
    return SegmentOut(
        id=row.id,
        name=row.name,
        kind="static" if row.kind == "static" else "filter",
        filter=parse_filter(row.filter) if row.kind != "static" else None,
        members=members,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _row(session: AsyncSession, workspace_id: int, segment_id: int) -> Segment:
    row = await repository.segment(session, workspace_id, segment_id)
    if row is None:
        raise SegmentNotFound(f"no segment {segment_id}", segment_id=segment_id)
    return row


async def _check_compiles(session: AsyncSession, workspace_id: int, node: Filter) -> None:
    """Saving checks the custom fields now, not at the first broadcast."""
    fields = await repository.field_specs(session, workspace_id)
    compiler.compile(node, workspace_id, utcnow(), fields)


async def _name_free(
    session: AsyncSession, workspace_id: int, name: str, own_id: int | None = None
) -> None:
    found = await repository.segment_by_name(session, workspace_id, name)
    if found is not None and found.id != own_id:
        raise SegmentNameTaken(f"a segment named {name!r} already exists", name=name)


async def _add(session: AsyncSession, row: Segment) -> Segment:
    try:
        async with session.begin_nested():
            return await repository.add_segment(session, row)
    except IntegrityError:  # the same name saved at the same moment by someone else
        raise SegmentNameTaken(
            f"a segment named {row.name!r} already exists", name=row.name
        ) from None


async def create(session: AsyncSession, workspace_id: int, data: SegmentCreate) -> SegmentOut:
    await _check_compiles(session, workspace_id, data.filter)
    await _name_free(session, workspace_id, data.name)
    now = utcnow()
    row = await _add(
        session,
        Segment(
            workspace_id=workspace_id,
            name=data.name,
            kind="filter",
            filter=dump_filter(data.filter),
            created_at=now,
            updated_at=now,
        ),
    )
    return _out(row)


async def get(session: AsyncSession, workspace_id: int, segment_id: int) -> SegmentOut:
    row = await _row(session, workspace_id, segment_id)
    members = None
    if row.kind == "static":
        members = (await repository.member_counts(session, [row.id])).get(row.id, 0)
    return _out(row, members)


async def list_segments(session: AsyncSession, workspace_id: int) -> list[SegmentOut]:
    rows = await repository.segments(session, workspace_id)
    static = [row.id for row in rows if row.kind == "static"]
    counts = await repository.member_counts(session, static) if static else {}
    return [_out(row, counts.get(row.id, 0) if row.kind == "static" else None) for row in rows]


async def update(
    session: AsyncSession, workspace_id: int, segment_id: int, data: SegmentUpdate
) -> SegmentOut:
    row = await _row(session, workspace_id, segment_id)
    if data.filter is not None:
        if row.kind == "static":
            raise StaticSegmentHasNoFilter(
                "a static segment (an ID list) has members, not a filter", field="filter"
            )
        await _check_compiles(session, workspace_id, data.filter)
        row.filter = dump_filter(data.filter)
    if data.name is not None and data.name != row.name:
        await _name_free(session, workspace_id, data.name, own_id=row.id)
        row.name = data.name
    row.updated_at = utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise SegmentNameTaken(
            f"a segment named {row.name!r} already exists", name=row.name
        ) from None
    return await get(session, workspace_id, segment_id)


async def delete(session: AsyncSession, workspace_id: int, segment_id: int) -> None:
    row = await _row(session, workspace_id, segment_id)
    await repository.delete_segment(session, row)


# --- audiences ---------------------------------------------------------------------------


@dataclass
class _Shapes:
    """One audience of one call, compiled per shape when asked (compiler.compile keeps each
    compiled select): `await shapes(drive)` with the workspace's tag and account ids as
    they are now (looked up once per call on PostgreSQL: repository.plans_by_value), and
    `await shapes.walking()`, the first page's walk (drive=False), which takes the ids an
    earlier call found when there are, checked inside its own statement (a stale catalog
    selects nobody: compiler.catalog_unchanged), so a first page is one statement."""

    session: AsyncSession
    workspace_id: int
    at: datetime
    node: Filter | None = None  # None: the audience is `fixed`
    fixed: Audience | None = None  # a static segment's members, everyone
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    tag_keys: list[str] = field(default_factory=list)
    accounts: bool = False
    catalog: Catalog | None = None  # looked up by this call
    remembered: Catalog | None = None  # taken from an earlier call by walking()

    async def __call__(self, drive: bool = True) -> Audience:
        if self.node is None:
            assert self.fixed is not None
            return self.fixed
        return self._compile(drive, await self.looked_up())

    async def walking(self) -> Audience:
        if self.node is None or self.catalog is not None or not self._by_value():
            return await self(False)
        self.remembered = repository.remembered_catalog(
            self.workspace_id, self.tag_keys, self.accounts
        )
        if self.remembered is None:
            return await self(False)
        return self._compile(False, self.remembered, checked=True)

    def _compile(self, drive: bool, catalog: Catalog | None, checked: bool = False) -> Audience:
        assert self.node is not None
        return compiler.compile(
            self.node,
            self.workspace_id,
            self.at,
            self.fields,
            catalog=catalog,
            drive=drive,
            checked=checked,
        )

    async def looked_up(self) -> Catalog | None:
        """The ids as they are now (None on SQLite, where the SQL names tags instead)."""
        if self.catalog is None and self.node is not None and self._by_value():
            self.catalog = await repository.catalog(
                self.session, self.workspace_id, self.tag_keys, self.accounts
            )
        return self.catalog

    def _by_value(self) -> bool:
        return repository.plans_by_value(self.session)


async def _compiled(
    session: AsyncSession,
    workspace_id: int,
    segment_or_filter: SegmentOrFilter,
    at: datetime,
) -> _Shapes:
    """The audience, compiled per shape when asked (_Shapes)."""
    if isinstance(segment_or_filter, int):
        row = await _row(session, workspace_id, segment_or_filter)
        if row.kind == "static":
            members = repository.static_members(workspace_id, row.id)
            return _Shapes(session, workspace_id, at, fixed=members)
        node = parse_filter(row.filter)
    elif isinstance(segment_or_filter, Mapping):
        node = parse_filter(segment_or_filter)
    else:
        node = segment_or_filter
    # Only what the filter names is looked up: each statement costs a count or a preview
    # (on SQLite a round trip through aiosqlite's thread is ~0.7 ms of a 3 ms first page).
    nodes = [found for found, _, _ in walk(node)]
    fields: dict[str, FieldSpec] = {}
    if any(isinstance(found, FieldRule) for found in nodes):
        fields = await repository.field_specs(session, workspace_id)
    return _Shapes(
        session,
        workspace_id,
        at,
        node,
        fields=fields,
        tag_keys=[fold(t) for found in nodes if isinstance(found, TagsRule) for t in found.tags],
        accounts=any(isinstance(found, ChannelRule | MessageableRule) for found in nodes),
    )


async def audience(
    session: AsyncSession,
    workspace_id: int,
    segment_or_filter: SegmentOrFilter,
    now: datetime | None = None,
) -> Select[int]:
    """ONE select of Contact.id: the members at `now` (merged contacts never are)."""
    at = as_utc(now) if now is not None else utcnow()
    return (await (await _compiled(session, workspace_id, segment_or_filter, at))()).bound()


async def _first_page(
    session: AsyncSession, workspace_id: int, shapes: _Shapes, limit: int
) -> Sequence[Any]:
    """The first page, latest interaction first, in two steps. First among the RECENT_WINDOW
    contacts who interacted last (ix_contact_workspace_recent, walked backwards), every
    predicate a probe: a page found there is the page, since every member who interacted
    more recently is in that window. Otherwise (a sparse segment), the driven query.

    The window's edge and the tag / account ids are those an earlier call found, when there
    are: then the walk is the only statement. Neither can make the page wrong (see
    repository.recent_page, compiler.catalog_unchanged); when the walk comes up short, it is
    walked again if either has changed since. A walk that came up short (a sparse segment)
    is not tried again for SHORT_WALK_KEPT_SECONDS: the driven query alone answers."""
    walk = await shapes.walking()
    short = walk.derived.get(("short walk", limit, RECENT_WINDOW))
    if short is not None and time.monotonic() - short < SHORT_WALK_KEPT_SECONDS:
        return await repository.page(session, await shapes(True), limit=limit)
    edge = repository.remembered_edge(workspace_id, RECENT_WINDOW)
    remembered = edge is not None
    if edge is None:
        edge = await repository.recent_edge(session, workspace_id, RECENT_WINDOW)
    page = await repository.recent_page(session, walk, limit=limit, edge=edge)
    if page is None and (remembered or shapes.remembered is not None):
        now_edge = edge
        if remembered:
            now_edge = await repository.recent_edge(session, workspace_id, RECENT_WINDOW)
        catalog = await shapes.looked_up()
        if now_edge < edge or (shapes.remembered is not None and catalog != shapes.remembered):
            walk = await shapes(False)
            page = await repository.recent_page(session, walk, limit=limit, edge=now_edge)
    if page is not None:
        return page
    walk.derived[("short walk", limit, RECENT_WINDOW)] = time.monotonic()
    return await repository.page(session, await shapes(True), limit=limit)


async def count(
    session: AsyncSession,
    workspace_id: int,
    segment_or_filter: SegmentOrFilter,
    now: datetime | None = None,
) -> CountOut:
    at = as_utc(now) if now is not None else utcnow()
    shapes = await _compiled(session, workspace_id, segment_or_filter, at)
    return CountOut(count=await repository.count(session, await shapes()), at=at)


async def _rows(session: AsyncSession, page: Sequence[Any]) -> list[ContactRow]:
    ids = [row[0] for row in page]
    phones = await repository.phones_of(session, ids) if ids else {}
    tags = await repository.tags_of(session, ids) if ids else {}
    return [
        ContactRow(
            id=contact_id,
            name=name,
            phones=phones.get(contact_id, []),
            tags=tags.get(contact_id, []),
            last_interaction_at=last_interaction_at,
            created_at=created_at,
        )
        for contact_id, name, last_interaction_at, created_at in page
    ]


async def first_page(
    session: AsyncSession,
    workspace_id: int,
    segment_or_filter: SegmentOrFilter,
    limit: int = 20,
    now: datetime | None = None,
) -> list[tuple[int, str, datetime | None, datetime]]:
    """(id, name, last_interaction_at, created_at) of the first page, latest interaction
    first: what preview shows, without phones and tags."""
    at = as_utc(now) if now is not None else utcnow()
    shapes = await _compiled(session, workspace_id, segment_or_filter, at)
    return [tuple(row) for row in await _first_page(session, workspace_id, shapes, limit)]


async def preview(
    session: AsyncSession,
    workspace_id: int,
    segment_or_filter: SegmentOrFilter,
    limit: int = 20,
    now: datetime | None = None,
) -> PreviewOut:
    """The first page: latest interaction first (never interacted last), then newest id."""
    at = as_utc(now) if now is not None else utcnow()
    shapes = await _compiled(session, workspace_id, segment_or_filter, at)
    page = await _first_page(session, workspace_id, shapes, limit)
    return PreviewOut(items=await _rows(session, page), limit=limit, at=at)


async def iter_members(
    session: AsyncSession,
    workspace_id: int,
    segment_or_filter: SegmentOrFilter,
    batch: int = 1000,
    now: datetime | None = None,
) -> AsyncIterator[list[int]]:
    """The members' contact ids, ascending, in lists of up to `batch` (export, broadcasts).

    One query, streamed through a server-side cursor: memory stays flat for a million members
    and `now` is fixed for the whole audience. The session's transaction must stay open while
    iterating (no commit between pages). To freeze an audience into rows, prefer one
    INSERT ... SELECT over `audience(...)`."""
    at = as_utc(now) if now is not None else utcnow()
    shapes = await _compiled(session, workspace_id, segment_or_filter, at)
    async for ids in repository.stream_ids(session, await shapes(), batch):
        yield ids


# --- ID lists ----------------------------------------------------------------------------


async def create_from_id_list(
    session: AsyncSession, workspace_id: int, data: IdListIn
) -> IdListOut:
    """A static segment of the contacts behind pasted lines. A line matches a channel identity
    (PSID, WhatsApp id, ...) on any account of the workspace, or a valid phone of a contact
    (normalised to E.164 with the workspace's default region). Lines that match nobody are
    reported, trimmed and de-duplicated, in input order."""
    lines = data.lines()
    await _name_free(session, workspace_id, data.name)
    region = (await workspaces.get(session, workspace_id)).default_region
    phones: dict[str, str] = {}
    for line in lines:
        point = normalise_phone(line, region)
        if point is not None and point.valid:
            phones[line] = point.value
    by_identity: dict[str, set[int]] = {}
    for external_id, contact_id in await repository.contacts_by_external_ids(
        session, workspace_id, lines
    ):
        by_identity.setdefault(external_id, set()).add(contact_id)
    by_phone: dict[str, set[int]] = {}
    for value, contact_id in await repository.contacts_by_phones(
        session, workspace_id, sorted(set(phones.values()))
    ):
        by_phone.setdefault(value, set()).add(contact_id)

    found: dict[str, set[int]] = {}
    for line in lines:
        ids = by_identity.get(line, set()) | by_phone.get(phones.get(line, ""), set())
        if ids:
            found[line] = ids
    matched = {contact_id for ids in found.values() for contact_id in ids}
    standing = await _follow_merges(session, workspace_id, matched)
    members: set[int] = set()
    unmatched: list[str] = []
    for line in lines:
        resolved = {t for i in found.get(line, ()) if (t := standing.get(i)) is not None}
        if resolved:
            members |= resolved
        else:
            unmatched.append(line)
    now = utcnow()
    row = await _add(
        session,
        Segment(
            workspace_id=workspace_id,
            name=data.name,
            kind="static",
            filter={},
            created_at=now,
            updated_at=now,
        ),
    )
    await repository.add_members(session, row.id, sorted(members))
    return IdListOut(
        segment_id=row.id,
        name=row.name,
        lines=len(lines),
        matched_lines=len(lines) - len(unmatched),
        contacts=len(members),
        unmatched=unmatched,
    )


async def _follow_merges(
    session: AsyncSession, workspace_id: int, contact_ids: set[int]
) -> dict[int, int | None]:
    """Each contact -> the contact that stands for it now (itself unless merged; None if it
    is not in the workspace)."""
    resolved: dict[int, int | None] = {}
    pending = {contact_id: contact_id for contact_id in contact_ids}  # original -> current
    for _ in range(_MERGE_HOPS):
        if not pending:
            break
        targets = await repository.merged_into(session, workspace_id, sorted(set(pending.values())))
        following: dict[int, int] = {}
        for original, current in pending.items():
            if current not in targets:
                resolved[original] = None
                continue
            target = targets[current]
            if target is None:
                resolved[original] = current
            else:
                following[original] = target
        pending = following
    for original in pending:
        resolved[original] = None  # a merge chain longer than we follow
    return resolved


# --- the contact list --------------------------------------------------------------------


async def list_contacts(
    session: AsyncSession,
    workspace_id: int,
    *,
    q: str | None = None,
    segment_id: int | None = None,
    filter: Filter | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: ContactSort = "-last_interaction_at",
    now: datetime | None = None,
) -> list[ContactRow]:
    """Contacts of the workspace (never merged ones), optionally in a segment or matching an
    inline filter (both: in the segment AND matching the filter), searched accent-insensitively
    by name, phone or email."""
    if (
        offset == 0
        and sort == "-last_interaction_at"
        and not (q and q.strip())
        and (segment_id is None or filter is None)
    ):  # the first page of one audience: the two-step first page
        at = as_utc(now) if now is not None else utcnow()
        chosen = segment_id if segment_id is not None else filter
        if chosen is None:
            everyone = repository.all_contacts(workspace_id)
            shapes = _Shapes(session, workspace_id, at, fixed=everyone)
        else:
            shapes = await _compiled(session, workspace_id, chosen, at)
        return await _rows(session, await _first_page(session, workspace_id, shapes, limit))
    query = repository.all_contacts(workspace_id).select
    if segment_id is not None:
        query = await audience(session, workspace_id, segment_id, now)
    if filter is not None:
        if segment_id is not None:
            inline = await audience(session, workspace_id, filter, now)
            query = query.where(repository.contact_id_in(inline))
        else:
            query = await audience(session, workspace_id, filter, now)
    if q and q.strip():
        tokens = fold(q).split()[:MAX_SEARCH_TOKENS]
        phone = None
        if sum(ch.isdigit() for ch in q) >= 6:
            region = (await workspaces.get(session, workspace_id)).default_region
            point = normalise_phone(q, region)
            phone = point.value if point is not None and point.valid else None
        query = repository.searched(query, tokens, phone)
    # A one-off select (values bound in it): not kept, as the first page of one audience is.
    page = await repository.page(session, Audience(query), limit=limit, offset=offset, sort=sort)
    return await _rows(session, page)
