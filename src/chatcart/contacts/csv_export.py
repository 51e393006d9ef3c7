"""Contacts to CSV, streamed: the whole list (keyset pages, id > last id) or the contacts
whose ids an iterator hands over (a segment), a batch at a time, never all at once.

Sessions: given a session factory, every batch reads in its own short session that is
closed before its text is yielded, so a slow reader (an HTTP client, a disk) holds no
connection and no transaction (on SQLite every transaction takes the write lock). The
export is therefore not one snapshot: contacts created while it runs may or may not be in
it. Given an AsyncSession, every batch reads in that session, which the caller owns.

Errors (unknown column, unknown workspace) are raised when the first chunk is pulled; that
chunk is the BOM and the header, so an HTTP endpoint pulls it before it answers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart.channels import service as channels
from chatcart.contacts import repository
from chatcart.contacts.csv_format import (
    BOM,
    EXPORT_COLUMNS,
    FIELD_PREFIX,
    LIST_SEP,
    UnknownColumn,
    guard_formula,
    source_text,
)
from chatcart.contacts.repository import ExportRow
from chatcart.kit.clock import as_utc
from chatcart.workspaces import service as workspaces

Sessions = async_sessionmaker[AsyncSession] | AsyncSession
ContactIds = AsyncIterable[list[int]] | Iterable[int]

BATCH_SIZE = 1000
CHUNK_CHARS = 64 * 1024  # a chunk is yielded when this much text is waiting
_NUMERIC = frozenset({"id", "order_count", "total_spent"})


@dataclass(frozen=True)
class _Plan:
    workspace_id: int
    columns: list[str]
    zone: ZoneInfo
    account_kinds: dict[int, str]


@dataclass
class _Details:
    phones: dict[int, list[str]] = field(default_factory=dict)
    invalid_phones: dict[int, list[str]] = field(default_factory=dict)
    emails: dict[int, list[str]] = field(default_factory=dict)
    tags: dict[int, list[str]] = field(default_factory=dict)
    fields: dict[int, dict[str, str]] = field(default_factory=dict)
    identities: dict[int, list[str]] = field(default_factory=dict)
    consent: dict[int, str] = field(default_factory=dict)


@asynccontextmanager
async def _reading(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    if isinstance(sessions, AsyncSession):
        yield sessions
        return
    async with sessions() as session:  # read only: closing it rolls back
        yield session


async def default_columns(session: AsyncSession, workspace_id: int) -> list[str]:
    """Every column of EXPORT_COLUMNS, then field:<key> for each custom field."""
    keys = [d.key for d in await repository.field_definitions(session, workspace_id)]
    return [*EXPORT_COLUMNS, *(FIELD_PREFIX + k for k in keys)]


def _resolve_columns(asked: Sequence[str], field_keys: set[str]) -> list[str]:
    chosen: list[str] = []
    for raw in asked:
        name = raw.strip().lower()
        if not name:
            continue
        key = name.removeprefix(FIELD_PREFIX).strip()
        if name in EXPORT_COLUMNS:
            column = name
        elif key in field_keys:  # "field:size", or plainly "size"
            column = FIELD_PREFIX + key
        else:
            choices = ", ".join([*EXPORT_COLUMNS, *sorted(FIELD_PREFIX + k for k in field_keys)])
            raise UnknownColumn(f"unknown column {raw.strip()!r}; choose from: {choices}")
        if column not in chosen:
            chosen.append(column)
    if not chosen:
        raise UnknownColumn("no columns chosen")
    return chosen


async def _plan(session: AsyncSession, workspace_id: int, columns: Sequence[str] | None) -> _Plan:
    workspace = await workspaces.get(session, workspace_id)
    if columns is None:
        chosen = await default_columns(session, workspace_id)
    else:
        keys = {d.key for d in await repository.field_definitions(session, workspace_id)}
        chosen = _resolve_columns(columns, keys)
    kinds: dict[int, str] = {}
    if "identities" in chosen:
        kinds = {a.id: a.kind for a in await channels.list_accounts(session, workspace_id)}
    return _Plan(workspace_id, chosen, ZoneInfo(workspace.timezone), kinds)


async def _load(session: AsyncSession, plan: _Plan, ids: list[int]) -> _Details:
    """What the chosen columns need of one batch of contacts, in one query per kind."""
    need = set(plan.columns)
    out = _Details()
    if need & {"phones", "invalid_phones", "emails"}:
        for contact_id, kind, value, valid in await repository.points_of_many(session, ids):
            bucket = out.emails if kind == "email" else out.phones if valid else out.invalid_phones
            bucket.setdefault(contact_id, []).append(value)
    if "tags" in need:
        for contact_id, name in await repository.tag_names_of_many(session, ids):
            out.tags.setdefault(contact_id, []).append(name)
    if any(c.startswith(FIELD_PREFIX) for c in need):
        for cid, key, kind, text, number, day, flag in await repository.field_values_of_many(
            session, ids
        ):
            text = _field_text(kind, text, number, day, flag)
            out.fields.setdefault(cid, {})[FIELD_PREFIX + key] = text
    if "identities" in need:
        for contact_id, account_id, external_id in await repository.identities_of_many(
            session, ids
        ):
            kind = plan.account_kinds.get(account_id, "unknown")
            out.identities.setdefault(contact_id, []).append(f"{kind}:{external_id}")
    if "consent_marketing" in need:
        for contact_id, status in await repository.consents_of_many(session, ids, "marketing"):
            out.consent[contact_id] = status
    return out


def _field_text(
    kind: str, text: str | None, number: float | None, day: date | None, flag: bool | None
) -> str:
    if kind == "number" and number is not None:
        return _number(number)
    if kind == "date" and day is not None:
        return day.isoformat()
    if kind == "boolean" and flag is not None:
        return "true" if flag else "false"
    return guard_formula(text or "")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else as_utc(value).astimezone(zone).isoformat(timespec="seconds")


def _cells(plan: _Plan, row: ExportRow, details: _Details) -> list[str]:
    cid = row.id
    values: list[str] = []
    for column in plan.columns:
        if column in _NUMERIC:
            values.append(str(getattr(row, column)))
        elif column in ("name", "first_name", "last_name", "locale"):
            values.append(guard_formula(getattr(row, column) or ""))
        elif column in ("created_at", "last_interaction_at"):
            values.append(_when(getattr(row, column), plan.zone))
        elif column == "phones":  # E.164 that we formatted: safe as it is
            values.append(LIST_SEP.join(details.phones.get(cid, [])))
        elif column in ("invalid_phones", "emails", "tags", "identities"):
            listed: dict[int, list[str]] = getattr(details, column)
            values.append(guard_formula(LIST_SEP.join(listed.get(cid, []))))
        elif column == "source":
            values.append(guard_formula(source_text(row.source or {})))
        elif column == "consent_marketing":
            values.append(details.consent.get(cid, ""))
        else:  # field:<key>
            values.append(details.fields.get(cid, {}).get(column, ""))
    return values


async def _id_batches(contact_ids: ContactIds, size: int) -> AsyncIterator[list[int]]:
    pending: list[int] = []
    if isinstance(contact_ids, AsyncIterable):
        async for ids in contact_ids:
            pending.extend(ids)
            while len(pending) >= size:
                yield pending[:size]
                pending = pending[size:]
    else:
        for contact_id in contact_ids:
            pending.append(contact_id)
            if len(pending) >= size:
                yield pending
                pending = []
    if pending:
        yield pending


async def _pages(
    sessions: Sessions, plan: _Plan, contact_ids: ContactIds | None, size: int
) -> AsyncIterator[tuple[list[ExportRow], _Details]]:
    """Batches of contacts with their details; no session is open while one is yielded."""
    if contact_ids is None:
        after = 0
        while True:
            async with _reading(sessions) as session:
                rows = await repository.export_contacts_after(
                    session, plan.workspace_id, after, size
                )
                details = await _load(session, plan, [r.id for r in rows]) if rows else None
            if not rows or details is None:
                return
            yield rows, details
            if len(rows) < size:
                return
            after = rows[-1].id
    else:
        async for ids in _id_batches(contact_ids, size):
            async with _reading(sessions) as session:
                rows = await repository.export_contacts_in(session, plan.workspace_id, ids)
                details = await _load(session, plan, [r.id for r in rows]) if rows else None
            if rows and details is not None:
                yield rows, details


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


async def export_csv(
    sessions: Sessions,
    workspace_id: int,
    columns: Sequence[str] | None = None,
    contact_ids: ContactIds | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> AsyncIterator[str]:
    """CSV text in chunks: the first is the UTF-8 BOM (Excel then reads UTF-8) and the
    header; then rows, ordered by contact id, a chunk per CHUNK_CHARS or per batch. Merged
    contacts are never exported. `progress(rows_done)` is called after every batch."""
    async with _reading(sessions) as session:
        plan = await _plan(session, workspace_id, columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # Excel's dialect: "," and CRLF, quoted when needed
    writer.writerow(plan.columns)
    yield BOM + _take(buffer)
    done = 0
    async for rows, details in _pages(sessions, plan, contact_ids, batch_size):
        for row in rows:
            writer.writerow(_cells(plan, row, details))
            if buffer.tell() >= CHUNK_CHARS:
                yield _take(buffer)
        done += len(rows)
        if progress is not None:
            progress(done)
        if buffer.tell():
            yield _take(buffer)
