"""CSV imports started from the admin: a row per import holds the progress (so whichever
web process answers the page can show it) and, at the end, the per-row report.

The import runs as a task of the process that received the upload (the file stays in its
memory, never on disk). Its progress is written to the row every PROGRESS_SECONDS; a
running import whose row stopped moving for STALE_AFTER was interrupted (the process
stopped): the page says so, and importing the file again is safe (rows already imported
count as unchanged)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart.contacts import csv_import, repository
from chatcart.contacts.errors import ContactNotFound
from chatcart.contacts.schemas import ImportStatus
from chatcart.kit.clock import as_utc, utcnow
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError
from chatcart.models import ContactImport

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 0.5
# After an import this big, PostgreSQL's statistics are refreshed at once: autovacuum would
# take up to a minute, and a broadcast started meanwhile was planned as if the tables were
# empty (a nested loop per contact: minutes for 100,000 instead of a second).
ANALYZE_AFTER_ROWS = 1000
ANALYZED_TABLES = ("contact", "contact_identity", "contact_point", "contact_tag")
STALE_AFTER = timedelta(seconds=60)


def _status(row: ContactImport) -> ImportStatus:
    status = row.status
    if status == "running" and utcnow() - as_utc(row.updated_at) > STALE_AFTER:
        status = "interrupted"
    return ImportStatus(
        id=row.id,
        filename=row.filename,
        status=status,
        rows_done=row.rows_done,
        rows_total=row.rows_total,
        report=row.report,
        error=row.error,
        actor=row.actor,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


async def start(
    session: AsyncSession, workspace_id: int, filename: str, actor: str | None
) -> ImportStatus:
    """The import's row (commit it before run() starts, so the page can show it)."""
    now = utcnow()
    row = ContactImport(
        workspace_id=workspace_id,
        filename=filename[:255] or "contacts.csv",
        actor=actor,
        status="running",
        rows_done=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return _status(row)


async def _save(
    sessions: async_sessionmaker[AsyncSession], import_id: int, **values: object
) -> None:
    async with transaction(sessions) as session:
        await repository.update_import(session, import_id, {**values, "updated_at": utcnow()})


async def run(
    sessions: async_sessionmaker[AsyncSession],
    import_id: int,
    workspace_id: int,
    data: bytes,
    *,
    channel_account_id: int | None = None,
    actor: str = "import",
) -> None:
    """Import `data` into the workspace, moving the import's row as batches commit. Never
    raises: a file that cannot be read, or a failure, ends as status `failed` with why."""
    done: list[int | None] = [0, None]
    saved: list[int | None] = [-1, None]

    def progress(rows: int, total: int | None) -> None:
        done[0], done[1] = rows, total

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            if done != saved:
                saved[:] = done
                await _save(sessions, import_id, rows_done=done[0], rows_total=done[1])

    ticker = asyncio.create_task(heartbeat())
    analyze = False
    try:
        report = await csv_import.import_csv(
            sessions,
            workspace_id,
            data,
            channel_account_id=channel_account_id,
            progress=progress,
            actor=actor,
        )
    except AppError as exc:
        outcome: dict[str, object] = {"status": "failed", "error": exc.message}
    except Exception:  # a background task: say it failed, keep the trace in the log
        log.exception("contact import %s failed", import_id)
        outcome = {"status": "failed", "error": "the import stopped on an internal error"}
    else:
        analyze = report.rows >= ANALYZE_AFTER_ROWS
        outcome = {
            "status": "done",
            "rows_done": report.rows,
            "rows_total": report.rows,
            "report": report.model_dump(mode="json"),
        }
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    await _save(sessions, import_id, finished_at=utcnow(), **outcome)
    if analyze:
        await _analyze(sessions)


async def _analyze(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Fresh planner statistics on PostgreSQL (SQLite keeps none unless asked, and plans
    without them). Best effort: the import is done either way."""
    try:
        async with transaction(sessions) as session:
            if session.get_bind().dialect.name != "postgresql":
                return
            await session.execute(text(f"ANALYZE {', '.join(ANALYZED_TABLES)}"))
    except Exception:  # statistics only: never fail the import for them
        log.warning("ANALYZE after a contact import failed", exc_info=True)


async def status(session: AsyncSession, workspace_id: int, import_id: int) -> ImportStatus:
    row = await repository.contact_import(session, workspace_id, import_id)
    if row is None:
        raise ContactNotFound(f"no import {import_id}")
    return _status(row)


async def recent(session: AsyncSession, workspace_id: int, limit: int = 10) -> list[ImportStatus]:
    return [_status(row) for row in await repository.recent_imports(session, workspace_id, limit)]
