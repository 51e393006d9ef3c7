"""`chatcart broadcast ...`: compose, plan, start (and follow), pause / resume / cancel,
retry, ledger. Registered by chatcart.cli."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from chatcart.broadcasts import service as broadcasts
from chatcart.broadcasts.schemas import (
    BroadcastCreate,
    BroadcastOut,
    BroadcastPurpose,
    LedgerRow,
    PlanOut,
    Preview,
    Report,
    Throttle,
)
from chatcart.config import ConfigError, get_settings
from chatcart.kit.clock import as_utc
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.kit.errors import AppError
from chatcart.runtime import Runtime
from chatcart.segments import service as segments
from chatcart.segments.schemas import IdListIn
from chatcart.workspaces import service as workspaces

app = typer.Typer(help="Broadcasts: one message to a segment, paced.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
T = TypeVar("T")

Workspace = Annotated[str, typer.Option(help="Workspace slug.")]
BroadcastId = Annotated[int, typer.Argument(help="Broadcast id.")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            settings = get_settings()
            settings.resolved_secret_key()
        except (ConfigError, ValidationError) as exc:
            raise _fail(str(exc)) from exc
        runtime = Runtime.open(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except AppError as exc:
        position = exc.details.get("position")
        where = f" (position {position})" if position is not None else ""
        raise _fail(exc.message if where in exc.message else exc.message + where) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


async def _workspace_id(runtime: Runtime, slug: str) -> int:
    async with runtime.sessions() as session:
        return (await workspaces.get_by_slug(session, slug)).id


@app.command("create")
def create(
    workspace: Workspace,
    name: Annotated[str, typer.Option(help="Name shown in the admin.")],
    channel: Annotated[
        list[int], typer.Option(help="Channel account id; repeat for several, in order.")
    ],
    purpose: Annotated[BroadcastPurpose, typer.Option(help="What the message is.")],
    text: Annotated[
        str | None,
        typer.Option(help='Spin text: {{first_name}}, {{city|default:"bạn"}}, {{Hi|Chào}}.'),
    ] = None,
    text_file: Annotated[Path | None, typer.Option(help="Read the text from a file.")] = None,
    segment: Annotated[int | None, typer.Option(help="Audience: a segment id.")] = None,
    ids_file: Annotated[
        Path | None,
        typer.Option(help="Audience: a file of PSIDs / phone numbers, one per line."),
    ] = None,
    quick_reply: Annotated[
        list[str] | None, typer.Option(help="A quick-reply button; repeat for several.")
    ] = None,
    image_url: Annotated[str | None, typer.Option(help="An image sent with the text.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Send N ...")] = None,
    pause: Annotated[float, typer.Option(help="... then pause S seconds.")] = 0.0,
    jitter: Annotated[float, typer.Option(help="± random seconds on each pause.")] = 0.0,
    max_per_second: Annotated[float | None, typer.Option(help="At most this many a second.")] = (
        None
    ),
    frequency_cap_hours: Annotated[
        int, typer.Option(help="Skip contacts sent a broadcast in the last H hours (0: off).")
    ] = 24,
    quiet: Annotated[
        str | None,
        typer.Option(help="Quiet hours in the contact's time zone, e.g. 21-8."),
    ] = None,
    schedule: Annotated[
        datetime | None, typer.Option(help="Start at this time (ISO, UTC if no offset).")
    ] = None,
) -> None:
    """Compose a broadcast (a draft: see `plan`, then `start`)."""
    if (text is None) == (text_file is None):
        raise _fail("give the message with --text or --text-file")
    body = text if text is not None else _read(text_file)
    if (segment is None) == (ids_file is None):
        raise _fail("give the audience with --segment or --ids-file")
    quiet_hours: tuple[int | None, int | None] = (None, None)
    if quiet:
        try:
            start_hour, end_hour = (int(p) for p in quiet.split("-"))
        except ValueError as exc:
            raise _fail("--quiet is two hours like 21-8") from exc
        quiet_hours = (start_hour, end_hour)

    async def work(runtime: Runtime) -> tuple[int, int]:
        ws = await _workspace_id(runtime, workspace)
        async with transaction(runtime.sessions) as session:
            segment_id = segment
            if ids_file is not None:
                listed = await segments.create_from_id_list(
                    session, ws, IdListIn(name=f"{name} (list)", text=_read(ids_file))
                )
                segment_id = listed.segment_id
                if listed.unmatched:
                    err.print(f"{len(listed.unmatched)} lines match no contact")
            assert segment_id is not None
            out = await broadcasts.create(
                session,
                ws,
                BroadcastCreate(
                    name=name,
                    channel_account_ids=channel,
                    segment_id=segment_id,
                    text=body,
                    quick_replies=quick_reply or [],
                    image_url=image_url,
                    purpose=purpose,
                    throttle=Throttle(
                        batch_size=batch_size,
                        pause_seconds=pause,
                        jitter_seconds=jitter,
                        max_per_second=max_per_second,
                        frequency_cap_hours=frequency_cap_hours,
                        quiet_start_hour=quiet_hours[0],
                        quiet_end_hour=quiet_hours[1],
                    ),
                    scheduled_at=as_utc(schedule) if schedule else None,
                ),
            )
            preview = await broadcasts.preview(session, ws, body, samples=1)
        return out.id, preview.variants

    broadcast_id, variants = _run(work)
    console.print(f"broadcast [bold]{broadcast_id}[/] created ({variants} distinct variants)")
    console.print(f"next: chatcart broadcast plan {broadcast_id} --workspace {workspace}")


def _read(path: Path | None) -> str:
    assert path is not None
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror or exc}") from exc


@app.command("preview")
def preview(
    workspace: Workspace,
    text: Annotated[str, typer.Option(help="Spin text to try.")],
    segment: Annotated[int | None, typer.Option(help="Render for this segment's people.")] = None,
    n: Annotated[int, typer.Option("-n", help="How many renderings.")] = 5,
) -> None:
    """Render spin text for real contacts; show the number of distinct variants."""

    async def work(runtime: Runtime) -> Preview:
        ws = await _workspace_id(runtime, workspace)
        async with runtime.sessions() as session:
            return await broadcasts.preview(session, ws, text, segment_id=segment, samples=n)

    out = _run(work)
    console.print(f"{out.variants} distinct variants")
    for sample in out.samples:
        console.print(f"• {sample}", markup=False, highlight=False)


def _print_plan(plan: PlanOut) -> None:
    console.print(
        f"[bold]{plan.total}[/] recipients: [green]{plan.reachable} reachable[/]"
        + (f" ({plan.later} after quiet hours)" if plan.later else "")
        + f", [yellow]{plan.skipped} skipped[/]"
    )
    table = Table("channel", "rule", "since", "recipients", "why", title="reachable")
    for channel in plan.channels:
        if not channel.by_rule:
            table.add_row(f"{channel.name} ({channel.kind})", "-", "", "0", "")
        for rule in channel.by_rule:
            table.add_row(
                f"{channel.name} ({channel.kind})",
                rule.rule,
                str(rule.effective or ""),
                str(rule.count),
                rule.reason,
            )
    console.print(table)
    if plan.skips:
        skipped = Table("rule", "since", "recipients", "why", title="skipped")
        for rule in plan.skips:
            skipped.add_row(rule.rule, str(rule.effective or ""), str(rule.count), rule.reason)
        console.print(skipped)


@app.command("plan")
def plan(broadcast_id: BroadcastId, workspace: Workspace) -> None:
    """Who will be reached, on which channel, by which rule; who is skipped and why."""

    async def work(runtime: Runtime) -> PlanOut:
        ws = await _workspace_id(runtime, workspace)
        async with runtime.sessions() as session:
            return await broadcasts.plan(session, ws, broadcast_id)

    _print_plan(_run(work))


@app.command("list")
def list_command(workspace: Workspace) -> None:
    """The workspace's broadcasts, newest first."""

    async def work(runtime: Runtime) -> list[BroadcastOut]:
        ws = await _workspace_id(runtime, workspace)
        async with runtime.sessions() as session:
            return await broadcasts.list_broadcasts(session, ws)

    table = Table("id", "name", "purpose", "status", "created")
    for row in _run(work):
        table.add_row(str(row.id), row.name, row.purpose, row.status, f"{row.created_at:%Y-%m-%d}")
    console.print(table)


@app.command("start")
def start(
    broadcast_id: BroadcastId,
    workspace: Workspace,
    follow: Annotated[bool, typer.Option(help="Show a live progress bar until it ends.")] = False,
    work_here: Annotated[
        bool,
        typer.Option(
            "--work/--no-work",
            help="Also send from this process (when no `chatcart serve` / `worker` runs).",
        ),
    ] = False,
) -> None:
    """Send now (or at the scheduled time). The audience is frozen at this moment."""

    async def work(runtime: Runtime) -> None:
        ws = await _workspace_id(runtime, workspace)
        effects = Effects()
        async with transaction(runtime.sessions) as session:
            out = await broadcasts.start(session, effects, ws, broadcast_id)
        await effects.flush(runtime.bus)
        console.print(f"broadcast {broadcast_id} is {out.status}")
        if follow or work_here:
            await _follow(runtime, ws, broadcast_id, work_here)

    _run(work)


async def _follow(runtime: Runtime, ws: int, broadcast_id: int, work_here: bool) -> None:
    from chatcart.worker.loops import new_worker_id

    runner = None
    if work_here:
        settings = runtime.settings
        runner = broadcasts.BroadcastRunner(
            sessions=runtime.sessions,
            bus=runtime.bus,
            secrets=runtime.secrets,
            adapters=runtime.adapters,
            worker_id=new_worker_id(),
            limiter=runtime.limiter,
            claim_batch=settings.broadcast_claim_batch,
            lease_seconds=settings.claim_seconds,
            max_attempts=settings.outbox_max_attempts,
            concurrency=settings.broadcast_concurrency,
        )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("sending", total=None, detail="")
        while True:
            if runner is not None:
                await runner.run_once()
            async with runtime.sessions() as session:
                now = await broadcasts.progress(session, ws, broadcast_id)
            rate = f"{now.rate_per_second:.1f}/s" if now.rate_per_second else ""
            bar.update(
                task,
                total=now.total or None,
                completed=now.done,
                description=now.status,
                detail=f"sent {now.sent + now.delivered + now.read} · skipped {now.skipped} · "
                f"failed {now.failed} · unknown {now.unknown} {rate}",
            )
            if now.status in {"done", "cancelled"} or (
                now.status == "paused" and now.paused_by == "seller"
            ):
                break
            if runner is None:
                await asyncio.sleep(0.5)
    console.print(
        f"{now.status}: {now.sent + now.delivered + now.read} sent, {now.skipped} skipped, "
        f"{now.failed} failed, {now.unknown} unknown"
    )
    if now.pause_reason:
        console.print(now.pause_reason, markup=False)


def _action(name: str, verb: str) -> Callable[[int, str], None]:
    def command(broadcast_id: BroadcastId, workspace: Workspace) -> None:
        async def work(runtime: Runtime) -> str:
            ws = await _workspace_id(runtime, workspace)
            effects = Effects()
            async with transaction(runtime.sessions) as session:
                out = await getattr(broadcasts, name)(session, effects, ws, broadcast_id)
            await effects.flush(runtime.bus)
            return out.status if hasattr(out, "status") else f"{out} recipients queued again"

        console.print(f"broadcast {broadcast_id}: {_run(work)}")

    command.__doc__ = verb
    return command


app.command("pause")(_action("pause", "Pause a running broadcast (what is in flight finishes)."))
app.command("resume")(_action("resume", "Resume a broadcast paused by the seller."))
app.command("cancel")(_action("cancel", "Cancel: nothing more is sent."))
app.command("retry-failed")(_action("retry_failed", "Send again to the failed recipients only."))
app.command("resend-unknown")(
    _action(
        "resend_unknown",
        "Send again to recipients in flight at a crash (some may get it twice).",
    )
)


@app.command("report")
def report(
    broadcast_id: BroadcastId,
    workspace: Workspace,
    order_days: Annotated[
        int,
        typer.Option(
            "--order-days",
            min=0,
            max=broadcasts.MAX_ORDER_DAYS,
            help="Count the orders placed within this many days after the message.",
        ),
    ] = broadcasts.DEFAULT_ORDER_DAYS,
) -> None:
    """Reach, delivered, read, replied, quick replies tapped, orders within N days."""

    async def work(runtime: Runtime) -> Report:
        ws = await _workspace_id(runtime, workspace)
        async with runtime.sessions() as session:
            return await broadcasts.report(session, ws, broadcast_id, order_days)

    out = _run(work)
    table = Table("recipients", "reached", "delivered", "read", "replied", "tapped",
                  f"orders ({out.order_days} d)", "buyers", "skipped", "failed",
                  "unknown")  # fmt: skip
    table.add_row(
        *(str(v) for v in (out.recipients, out.reached, out.delivered, out.read, out.replied,
                           out.clicked, out.orders, out.buyers, out.skipped, out.failed,
                           out.unknown))
    )  # fmt: skip
    console.print(table)


@app.command("ledger")
def ledger(
    broadcast_id: BroadcastId,
    workspace: Workspace,
    as_csv: Annotated[bool, typer.Option("--csv", help="The whole ledger as CSV.")] = False,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, or - for standard output.")
    ] = "-",
    limit: Annotated[int, typer.Option(help="Rows shown without --csv.")] = 50,
) -> None:
    """Every recipient: status, rule, rendered text, platform message id, error, times."""

    async def table(runtime: Runtime) -> list[LedgerRow]:
        ws = await _workspace_id(runtime, workspace)
        async with runtime.sessions() as session:
            return await broadcasts.ledger(session, ws, broadcast_id, status=status, limit=limit)

    async def write_csv(runtime: Runtime, sink: IO[str]) -> None:
        ws = await _workspace_id(runtime, workspace)
        async with runtime.sessions() as session:
            async for chunk in broadcasts.ledger_csv(session, ws, broadcast_id, status=status):
                sink.write(chunk)

    if as_csv:
        if output == "-":
            _run(lambda runtime: write_csv(runtime, sys.stdout))
            return
        try:
            with Path(output).open("w", encoding="utf-8-sig", newline="") as sink:
                _run(lambda runtime: write_csv(runtime, sink))
        except OSError as exc:
            raise _fail(f"cannot write {output}: {exc.strerror or exc}") from exc
        err.print(f"ledger written to {output}")
        return
    shown = Table("contact", "status", "rule", "text", "message id", "error", "sent")
    for row in _run(table):
        shown.add_row(
            f"{row.contact_name} ({row.contact_id})",
            row.status,
            row.rule or "",
            (row.rendered or "")[:60],
            row.external_id or "",
            row.error_code or "",
            f"{row.sent_at:%Y-%m-%d %H:%M:%S}" if row.sent_at else "",
        )
    console.print(shown)
