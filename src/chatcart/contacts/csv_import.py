"""CSV to contacts: tags, custom fields, phones, emails and channel ids, de-duplicated.

The file must be UTF-8 (a BOM is fine; Excel's "CSV UTF-8" writes one). The delimiter is
read off the header line (comma, semicolon or tab; an Excel "sep=;" line is honoured) and
headers are matched case- and accent-insensitively (csv_format.ALIASES, field:<key>, or a
custom field's key or label). The whole file is checked for broken quoting before any
row is written, so an unreadable file changes nothing.

A row matches an existing contact by a channel id (external_id on its account, or an
`identities` cell), else by a valid phone (E.164 in the workspace's default region), else by
an email. Matched contacts gain what the row adds: non-empty name / first / last name /
locale replace the old ones, phones, emails, tags and channel ids are added (nothing is
removed), fields are set, an earlier created_at / later last_interaction_at is kept, and
source / order_count / total_spent only fill a new contact. Empty cells change nothing.
Marketing consent may be revoked by a file, and granted where none was ever recorded, but
a revoked consent is never granted again by an import (a warning says so).

A row with an error (bad email, field value, date...) is skipped whole and reported as
RowError(line, column, problem); phones that phonenumbers rejects are no error: they are
kept as text (valid=False) and never matched on. Rows are written in batches of 500, one
transaction each, by csv_batch (a handful of queries per batch), so committed batches stay
if a later one fails; a batch that meets a unique-key conflict (a webhook created the same
identity meanwhile) is rolled back and written again row by row (_apply, a savepoint each).

Importing the same file again changes nothing: its rows count as `unchanged`. Rows with no
valid phone, email or channel id cannot be matched and are created again (each such row
gets a warning saying so).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart.channels import service as channels
from chatcart.contacts import book, repository
from chatcart.contacts.csv_batch import update_contact, write_batch
from chatcart.contacts.csv_format import CsvUnreadable, ImportReport, RowError, unguard_formula
from chatcart.contacts.csv_read import (
    Row,
    RowContext,
    RowReader,
    map_columns,
    prepare,
    read_source,
    records,
)
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError
from chatcart.kit.textnorm import fold, nfc
from chatcart.models import Contact, ContactConsent, ContactIdentity, ContactTag, Tag
from chatcart.workspaces import service as workspaces

BATCH_SIZE = 500
Progress = Callable[[int, int | None], None]


# ---- writing -----------------------------------------------------------------------------


async def _match(session: AsyncSession, ctx: RowContext, row: Row) -> Contact | None:
    """By channel id, then valid phone, then email."""
    for account_id, external_id in row.channel_ids:
        identity = await repository.identity(session, account_id, external_id)
        if identity is not None:
            return await repository.contact(session, ctx.workspace_id, identity.contact_id)
    for account_ids, external_id in row.identity_refs:
        identity = await repository.identity_on_accounts(session, account_ids, external_id)
        if identity is not None:
            return await repository.contact(session, ctx.workspace_id, identity.contact_id)
    for point in [*(p for p in row.phones if p.valid), *row.emails]:
        found = await repository.contact_by_point(
            session, ctx.workspace_id, point.kind, point.value
        )
        if found is not None:
            return found
    return None


async def _create(session: AsyncSession, ctx: RowContext, row: Row, now: datetime) -> Contact:
    name = row.name or " ".join(p for p in (row.first_name, row.last_name) if p)
    contact = Contact(
        workspace_id=ctx.workspace_id,
        name=name[:200],
        first_name=row.first_name,
        last_name=row.last_name,
        locale=row.locale,
        source=row.source if row.source is not None else {"channel": "import"},
        created_at=row.created_at or now,
        last_interaction_at=row.last_interaction_at,
        order_count=row.order_count or 0,
        total_spent=row.total_spent or 0,
        search_text=fold(name),
    )
    session.add(contact)
    await session.flush()
    book.event(session, contact, "imported", {"line": row.line}, ctx.actor, now)
    return contact


async def _apply(
    session: AsyncSession, ctx: RowContext, row: Row, tags: dict[str, Tag], now: datetime
) -> str:
    """created | updated | unchanged; row.warnings gains what was left alone."""
    contact = await _match(session, ctx, row)
    created = contact is None
    if contact is None:
        contact = await _create(session, ctx, row, now)
        changed = renamed = False
        if not row.rematchable():
            row.warnings.append(
                RowError(
                    line=row.line,
                    problem="no valid phone, email or channel id to find this contact by: "
                    "importing this file again adds it again",
                )
            )
    else:
        before = contact.name
        changed = update_contact(contact, row)
        renamed = contact.name != before
    for account_id, external_id in row.channel_ids:
        identity = await repository.identity(session, account_id, external_id)
        if identity is None:
            session.add(
                ContactIdentity(
                    workspace_id=ctx.workspace_id,
                    contact_id=contact.id,
                    channel_account_id=account_id,
                    external_id=external_id,
                    profile={},
                )
            )
            changed = True
        elif identity.contact_id != contact.id:
            row.warnings.append(
                RowError(
                    line=row.line,
                    column=_header(ctx, "external_id"),
                    problem=f"{external_id} belongs to contact {identity.contact_id}; left there",
                )
            )
    have = set() if created else await repository.point_keys(session, contact.id)
    new_points = [p for p in [*row.phones, *row.emails] if (p.kind, p.value) not in have]
    if new_points:
        await book.record_points(session, contact, new_points, source="import", at=now)
        changed = True
    elif renamed:
        await book.refresh_search_text(session, contact)
    if row.tags and await _tag(session, ctx, contact, created, row.tags, tags, now):
        changed = True
    if row.fields:
        current = {} if created else await book.fields_of(session, contact.id)
        todo: dict[str, object] = {
            key: text
            for key, (text, value) in row.fields.items()
            if key not in current or current[key] != value
        }
        if todo:
            await book.set_fields(session, ctx.workspace_id, contact.id, todo, actor=ctx.actor)
            changed = True
    if row.consent:
        changed = await _consent(session, ctx, contact, row, now) or changed
    await session.flush()
    return "created" if created else "updated" if changed else "unchanged"


async def _tag(
    session: AsyncSession,
    ctx: RowContext,
    contact: Contact,
    created: bool,
    names: list[str],
    tags: dict[str, Tag],
    now: datetime,
) -> bool:
    """book.tag_contacts with the batch's tags found once (see _write)."""
    have = set() if created else await repository.tag_ids_of(session, contact.id)
    new: list[Tag] = []
    for name in names:
        tag = tags[fold(name)]
        if tag.id not in have:
            have.add(tag.id)
            new.append(tag)
            session.add(ContactTag(contact_id=contact.id, tag_id=tag.id))
    if new:
        book.event(session, contact, "tagged", {"tags": [t.name for t in new]}, ctx.actor, now)
    return bool(new)


async def _consent(
    session: AsyncSession, ctx: RowContext, contact: Contact, row: Row, now: datetime
) -> bool:
    current = await session.get(ContactConsent, (contact.id, "marketing"))
    status = current.status if current is not None else None
    if row.consent == status:
        return False
    if row.consent == "granted" and current is not None:
        row.warnings.append(
            RowError(
                line=row.line,
                column=_header(ctx, "consent_marketing"),
                problem=f"marketing consent was revoked ({current.source}); "
                "an import does not grant it again",
            )
        )
        return False
    await book.set_consent(
        session,
        ctx.workspace_id,
        contact.id,
        "marketing",
        row.consent or "",
        source="import",
        at=now,
    )
    return True


def _header(ctx: RowContext, target: str) -> str | None:
    index = ctx.columns.first(target)
    return ctx.columns.headers[index] if index is not None else None


async def _write(
    sessions: async_sessionmaker[AsyncSession],
    ctx: RowContext,
    batch: list[Row],
    report: ImportReport,
) -> None:
    """The batch in one transaction through csv_batch (a handful of queries); when a unique
    key was taken meanwhile, the batch is rolled back and replayed row by row."""
    now = utcnow()
    counted = report.model_copy(deep=True)
    try:
        async with transaction(sessions) as session:
            tags = await _batch_tags(session, ctx, batch)
            await write_batch(session, ctx, batch, tags, now, report)
    except IntegrityError:
        # Nothing of the batch was kept: count it again, one row at a time.
        for name in ("created", "updated", "unchanged", "skipped", "errors", "warnings"):
            setattr(report, name, getattr(counted, name))
        for row in batch:
            row.warnings.clear()
        await _write_rows(sessions, ctx, batch, report, now)


async def _batch_tags(session: AsyncSession, ctx: RowContext, batch: list[Row]) -> dict[str, Tag]:
    """The batch's tags, found or made once, outside the rows' savepoints."""
    names = {name for row in batch for name in row.tags}
    return {t.key: t for t in await book.ensure_tags(session, ctx.workspace_id, names)}


async def _write_rows(
    sessions: async_sessionmaker[AsyncSession],
    ctx: RowContext,
    batch: list[Row],
    report: ImportReport,
    now: datetime,
) -> None:
    async with transaction(sessions) as session:
        tags = await _batch_tags(session, ctx, batch)
        for row in batch:
            try:
                async with session.begin_nested():
                    outcome = await _apply(session, ctx, row, tags, now)
            except AppError as exc:
                problem = exc.message
            except IntegrityError:  # e.g. the same channel id created meanwhile by a webhook
                problem = "conflicts with a contact written at the same time; import it again"
            else:
                setattr(report, outcome, getattr(report, outcome) + 1)
                report.warnings.extend(row.warnings)
                continue
            report.skipped += 1
            report.errors.append(RowError(line=row.line, problem=problem))


def _header_cells(rows: Iterator[tuple[int, list[str]]]) -> list[str]:
    for _, cells in rows:
        if cells:
            return [unguard_formula(nfc(c).strip().lstrip("\ufeff")) for c in cells]
    return []


# ---- the door ----------------------------------------------------------------------------


async def import_csv(
    sessions: async_sessionmaker[AsyncSession],
    workspace_id: int,
    source: Path | str | bytes,
    *,
    channel_account_id: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    actor: str = "import",
) -> ImportReport:
    """Import a CSV file (a path, or its bytes). Raises CsvUnreadable when the file cannot
    be read at all (encoding, quoting, no usable column; nothing is written then); row
    problems are in the report. `progress(rows_done, rows_total)` follows every batch."""
    started = time.monotonic()
    prepared = await asyncio.to_thread(prepare, await read_source(source))
    async with sessions() as session:
        workspace = await workspaces.get(session, workspace_id)
        definitions = {d.key: d for d in await book.field_definitions(session, workspace_id)}
        accounts = await channels.list_accounts(session, workspace_id)
        if channel_account_id is not None:
            await channels.get_account(session, channel_account_id, workspace_id)
    rows = records(prepared)
    columns = map_columns(_header_cells(rows), definitions)
    if channel_account_id is None and columns.needs_account():
        raise CsvUnreadable(
            "the file has a channel id column (psid / external_id): say which channel "
            "account the ids are on with --channel-account ID (see `chatcart channels "
            "list`) or a channel_account column",
            line=1,
        )
    ctx = RowContext(
        workspace_id,
        workspace.default_region,
        ZoneInfo(workspace.timezone),
        actor,
        definitions,
        accounts,
        channel_account_id,
        columns,
    )
    report = ImportReport(
        columns=columns.report, ignored_columns=columns.ignored, delimiter=prepared.delimiter
    )
    if progress is not None:
        progress(0, prepared.rows)
    batch: list[Row] = []
    for line, cells in rows:
        if not cells:
            continue  # a blank line
        report.rows += 1
        row, errors = RowReader(ctx, line, cells).read()
        if row is None:
            report.skipped += 1
            report.errors.extend(errors)
        else:
            batch.append(row)
        if len(batch) >= batch_size:
            await _write(sessions, ctx, batch, report)
            batch = []
            if progress is not None:
                progress(report.rows, prepared.rows)
    if batch:
        await _write(sessions, ctx, batch, report)
    if progress is not None:
        progress(report.rows, prepared.rows)
    report.duration = round(time.monotonic() - started, 3)
    return report
