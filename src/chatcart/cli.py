"""The `chatcart` command: serve, worker, db, workspace, user, token, channels, demo, contacts,
catalog, broadcast, flows (cli_flows.py)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import IO, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart import __version__, migrate
from chatcart.auth import service as auth
from chatcart.auth.schemas import Role, UserCreate
from chatcart.broadcasts.cli import app as broadcast_app
from chatcart.catalog import service as catalog
from chatcart.catalog.schemas import ImportFormat, ImportReport, ProductQuery, RowProblem
from chatcart.channels import service as channels
from chatcart.config import ConfigError, Settings, get_settings
from chatcart.contacts import service as contacts
from chatcart.kit import heap
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError
from chatcart.runtime import Runtime
from chatcart.sandbox.cli import app as sandbox_app
from chatcart.segments import service as segments
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate

app = typer.Typer(help="chatcart: self-hosted conversational commerce.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
user_app = typer.Typer(help="Users of a workspace.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
channels_app = typer.Typer(help="Channel accounts.", no_args_is_help=True)
channels_add = typer.Typer(help="Connect a channel.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo shop.", no_args_is_help=True)
contacts_app = typer.Typer(help="Contacts: CSV import and export.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(channels_app, name="channels")
channels_app.add_typer(channels_add, name="add")
app.add_typer(demo_app, name="demo")
app.add_typer(contacts_app, name="contacts")
app.add_typer(sandbox_app, name="sandbox")
catalog_app = typer.Typer(help="The product catalog: import, search.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(broadcast_app, name="broadcast")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def _settings() -> Settings:
    try:
        settings = get_settings()
        settings.resolved_secret_key()
    except (ConfigError, ValidationError) as exc:
        raise _fail(str(exc)) from exc
    return settings


def _run(work: Callable[[Runtime], Awaitable[T]], *, serving: bool = False) -> T:
    """Run one async unit of work against a fresh runtime; user mistakes print, not trace.
    `serving` (the worker): on uvloop when installed, as `chatcart serve` runs (uvicorn)."""

    async def main() -> T:
        runtime = Runtime.open(_settings())
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    run: Callable[[Coroutine[Any, Any, T]], T] = asyncio.run
    if serving:
        with contextlib.suppress(ImportError):
            import uvloop

            run = uvloop.run
    try:
        return run(main())
    except AppError as exc:
        raise _fail(exc.message) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Run the worker loops in this process.")
    ] = True,
) -> None:
    """Serve the web app (and, by default, the worker loops: the embedded shape)."""
    import uvicorn

    from chatcart.main import create_app

    settings = _settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not worker:
        _warn_without_redis(settings)
    application = create_app(settings, run_worker=worker)
    heap.settle_for_serving()
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        log_level="info",
        ws_max_size=1_000_000,
    )


def _warn_without_redis(settings: Settings) -> None:
    if not settings.redis_url:
        err.print(
            "[yellow]warning:[/] web and worker in separate processes need CHATCART_REDIS_URL "
            "to reach each other; without it, replies reach open widgets only on reconnect "
            "and work waits for the next poll."
        )


@app.command("worker")
def worker_command() -> None:
    """Run only the worker loops (the scaled shape: run as many as you need)."""
    from chatcart.worker.loops import Worker

    _warn_without_redis(_settings())
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    async def work(runtime: Runtime) -> None:
        loop_worker = Worker(runtime)
        heap.settle_for_serving()
        task = asyncio.create_task(loop_worker.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        console.print(f"worker [bold]{loop_worker.id}[/] running; Ctrl-C stops it")
        try:
            await task
        except asyncio.CancelledError:
            console.print("worker stopped")

    _run(work, serving=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (creates the SQLite file if needed)."""
    settings = _settings()
    migrate.upgrade(settings.database_url, revision, schema=settings.database_schema)
    console.print(f"database at [bold]{migrate.head_revision(settings.database_url)}[/]")


@db_app.command("current")
def db_current() -> None:
    """Show the applied and the latest migration."""

    async def work(runtime: Runtime) -> tuple[str | None, str | None]:
        current = await migrate.current_revision(runtime.engine)
        return current, migrate.head_revision(runtime.settings.database_url)

    current, head = _run(work)
    console.print(f"current: {current}  head: {head}")
    if current != head:
        raise typer.Exit(code=1)


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Option(help="Display name.")],
    slug: Annotated[str, typer.Option(help="Short id, e.g. my-shop.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Asia/Ho_Chi_Minh",
    locale: Annotated[str, typer.Option(help="vi, en or tl.")] = "vi",
    region: Annotated[str, typer.Option(help="Default phone region: VN or PH.")] = "VN",
) -> None:
    """Create a workspace."""

    async def work(runtime: Runtime) -> str:
        data = WorkspaceCreate(
            name=name, slug=slug, timezone=timezone, locale=locale, default_region=region
        )
        async with transaction(runtime.sessions) as session:
            created = await workspaces.create(session, data)
        return f"workspace {created.slug} (id {created.id}) created"

    console.print(_run(work))


@workspace_app.command("list")
def workspace_list() -> None:
    """List workspaces."""

    async def work(runtime: Runtime) -> Table:
        table = Table("id", "slug", "name", "timezone")
        async with runtime.sessions() as session:
            for ws in await workspaces.list_all(session):
                table.add_row(str(ws.id), ws.slug, ws.name, ws.timezone)
        return table

    console.print(_run(work))


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[Role, typer.Option(help="owner, admin or agent.")] = Role.agent,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Create a user (argon2-hashed password) and add them to a workspace."""

    async def work(runtime: Runtime) -> str:
        data = UserCreate(email=email, password=password, role=role, name=name)
        async with transaction(runtime.sessions) as session:
            ws = await workspaces.get_by_slug(session, workspace)
            principal = await auth.create_user(session, ws.id, data)
        return f"user {principal.email} is {principal.role.value} of {workspace}"

    console.print(_run(work))


@token_app.command("create")
def token_create(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
) -> None:
    """Create an API token for `Authorization: Bearer` (shown once)."""

    async def work(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            ws = await workspaces.get_by_slug(session, workspace)
            issued = await auth.create_token(session, ws.id, name)
        return issued.token

    token = _run(work)
    err.print("API token (shown once; keep it secret):")
    console.print(token)


@channels_add.command("webchat")
def channels_add_webchat(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    name: Annotated[str, typer.Option(help="Name shown in the admin.")] = "Website",
) -> None:
    """Create a website chat widget and print its embed snippet."""

    async def work(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            ws = await workspaces.get_by_slug(session, workspace)
            account = await channels.create_webchat(session, runtime.secrets, ws.id, name)
        base = runtime.settings.base_url.rstrip("/")
        return (
            f'<script src="{base}/widget.js" data-chatcart-key="{account.external_id}" '
            "defer></script>"
        )

    console.print(_run(work), soft_wrap=True, markup=False)


def _connect_meta(
    kind: str,
    workspace: str,
    external_id: str,
    page_token: str,
    app_secret: str,
    verify_token: str | None,
    name: str,
    page_id: str | None = None,
) -> None:
    async def work(runtime: Runtime) -> tuple[int, str, str]:
        async with transaction(runtime.sessions) as session:
            ws = await workspaces.get_by_slug(session, workspace)
            account = await channels.connect_meta(
                session,
                runtime.secrets,
                workspace_id=ws.id,
                kind=kind,
                name=name,
                external_id=external_id,
                page_token=page_token,
                app_secret=app_secret,
                verify_token=verify_token,
                page_id=page_id,
            )
            token = await channels.verify_token_of(session, runtime.secrets, account.id)
        return account.id, runtime.settings.base_url.rstrip("/"), token

    account_id, base, token = _run(work)
    console.print(f"[bold green]{kind} account connected[/] (id {account_id})")
    console.print("Paste these into your Meta app's Webhooks settings:")
    console.print(f"  Callback URL : {base}/webhooks/{kind}/{account_id}", markup=False)
    console.print(f"  Verify token : {token}", markup=False)


@channels_add.command("messenger")
def channels_add_messenger(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    page_id: Annotated[str, typer.Option(help="The Facebook Page id.")],
    page_token: Annotated[str, typer.Option(help="A Page access token (pages_messaging).")],
    app_secret: Annotated[str, typer.Option(help="The Meta app's secret (signs webhooks).")],
    verify_token: Annotated[
        str | None, typer.Option(help="Your webhook verify token; generated when omitted.")
    ] = None,
    name: Annotated[str, typer.Option(help="Name shown in the admin.")] = "",
) -> None:
    """Connect a Facebook Page (credentials are stored encrypted)."""
    _connect_meta("messenger", workspace, page_id, page_token, app_secret, verify_token, name)


@channels_add.command("instagram")
def channels_add_instagram(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    ig_id: Annotated[str, typer.Option(help="The Instagram professional account id.")],
    page_id: Annotated[str, typer.Option(help="The Facebook Page linked to it.")],
    page_token: Annotated[str, typer.Option(help="That Page's access token.")],
    app_secret: Annotated[str, typer.Option(help="The Meta app's secret (signs webhooks).")],
    verify_token: Annotated[
        str | None, typer.Option(help="Your webhook verify token; generated when omitted.")
    ] = None,
    name: Annotated[str, typer.Option(help="Name shown in the admin.")] = "",
) -> None:
    """Connect an Instagram professional account (Messenger API for Instagram)."""
    _connect_meta(
        "instagram", workspace, ig_id, page_token, app_secret, verify_token, name, page_id
    )


@channels_app.command("list")
def channels_list(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """List the workspace's channel accounts and their status."""

    async def work(runtime: Runtime) -> Table:
        table = Table("id", "kind", "name", "external id", "status")
        async with runtime.sessions() as session:
            ws = await workspaces.get_by_slug(session, workspace)
            for account in await channels.list_accounts(session, ws.id):
                status = account.status
                if account.status_reason:
                    status += f" ({account.status_reason})"
                table.add_row(
                    str(account.id), account.kind, account.name, account.external_id, status
                )
        return table

    console.print(_run(work))


@demo_app.command("seed")
def demo_seed() -> None:
    """Create the demo workspace once (later runs print its login again)."""
    from chatcart import demo

    async def work(runtime: Runtime) -> demo.DemoLogin:
        async with transaction(runtime.sessions) as session:
            return await demo.seed(session, runtime.secrets, runtime.settings)

    login = _run(work)
    console.print(
        "[bold green]Demo shop seeded[/]" if login.created else "[bold]Demo shop ready[/]"
    )
    console.print(f"  demo page : {login.demo_url}")
    console.print(f"  admin     : {login.admin_url}")
    if login.products_added:
        console.print(f"  catalog   : {login.products_added} products added")
    console.print(f"  email     : {login.email}")
    console.print(
        f"  password  : {login.password or '(set at first seed; file var/demo-login.txt is gone)'}"
    )


# ---- contacts: CSV -----------------------------------------------------------------------


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


def _segment_members(
    session: AsyncSession, workspace_id: int, segment_id: int
) -> AsyncIterator[list[int]]:
    """The segment's member ids, in ascending batches. The export reads its batches in this
    same session (see _export), so the iterator, which keeps its session between pages,
    cannot starve the export of SQLite's single pooled connection."""
    return segments.iter_members(session, workspace_id, segment_id)


@contacts_app.command("export")
def contacts_export(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    segment: Annotated[int | None, typer.Option(help="Export only this segment's members.")] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated columns (default: all): id, name, first_name, last_name, "
            "phones, invalid_phones, emails, tags, locale, source, created_at, "
            "last_interaction_at, order_count, total_spent, identities, consent_marketing, "
            "field:<key>."
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, or - for standard output.")
    ] = "-",
) -> None:
    """Export contacts as CSV (UTF-8 with BOM, opens in Excel), streamed in batches."""
    chosen = columns.split(",") if columns else None
    if output == "-":
        _run(lambda runtime: _export(runtime, workspace, segment, chosen, sys.stdout.buffer))
        sys.stdout.flush()
        return
    path = Path(output)
    part = path.with_name(path.name + ".part")  # a failed export leaves no half file behind
    try:
        with part.open("wb") as sink:
            rows = _run(lambda runtime: _export(runtime, workspace, segment, chosen, sink, True))
        part.replace(path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise _fail(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    err.print(f"exported {rows} contacts to {path}")


async def _export(
    runtime: Runtime,
    workspace: str,
    segment: int | None,
    columns: list[str] | None,
    sink: IO[bytes],
    show_progress: bool = False,
) -> int:
    async with runtime.sessions() as session:
        ws = await workspaces.get_by_slug(session, workspace)
        total = await contacts.count_contacts(session, ws.id) if segment is None else None
    done = 0
    with _progress() as bar:
        task = bar.add_task("exporting", total=total, visible=show_progress)

        def advance(rows: int) -> None:
            nonlocal done
            done = rows
            bar.update(task, completed=rows)

        async def write(
            sessions: AsyncSession | async_sessionmaker[AsyncSession],
            members: AsyncIterator[list[int]] | None,
        ) -> None:
            stream = contacts.export_csv(sessions, ws.id, columns, members, progress=advance)
            async for chunk in stream:
                sink.write(chunk.encode("utf-8"))

        if segment is None:  # the whole list: a short session per batch
            await write(runtime.sessions, None)
        else:  # a segment: its pages and the export's batches share one session
            async with runtime.sessions() as session:
                await write(session, _segment_members(session, ws.id, segment))
    return done


@contacts_app.command("import")
def contacts_import(
    file: Annotated[Path, typer.Argument(help="CSV file, UTF-8 (Excel: CSV UTF-8).")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel_account: Annotated[
        int | None,
        typer.Option(help="Channel account id of the psid / external_id column's ids."),
    ] = None,
    errors: Annotated[
        Path | None, typer.Option(help="Also write every row error to this CSV file.")
    ] = None,
) -> None:
    """Import contacts with tags and fields, matched by channel id, phone, then email.

    Rows with errors are listed (line, column, problem) and skipped; the good rows import.
    Exit code 1 only when the file cannot be read at all."""

    async def work(runtime: Runtime) -> contacts.ImportReport:
        async with runtime.sessions() as session:
            ws = await workspaces.get_by_slug(session, workspace)
        with _progress() as bar:
            task = bar.add_task("importing", total=None)
            return await contacts.import_csv(
                runtime.sessions,
                ws.id,
                file,
                channel_account_id=channel_account,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    report = _run(work)
    console.print(
        f"[bold]{report.rows}[/] rows: [green]{report.created} created[/], "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"[{'red' if report.skipped else 'green'}]{report.skipped} skipped[/] "
        f"({report.duration:.1f} s)"
    )
    if report.ignored_columns:
        console.print(f"ignored columns: {', '.join(report.ignored_columns)}", markup=False)
    _row_table("errors (rows skipped)", report.errors, "red")
    _row_table("warnings (rows imported)", report.warnings, "yellow")
    if errors is not None and report.errors:
        with errors.open("w", encoding="utf-8-sig", newline="") as sink:
            writer = csv.writer(sink)
            writer.writerow(["line", "column", "problem"])
            writer.writerows([e.line, e.column or "", e.problem] for e in report.errors)
        console.print(f"row errors written to {errors}", markup=False)


_SHOWN = 200


def _row_table(title: str, rows: list[contacts.RowError], style: str) -> None:
    if not rows:
        return
    table = Table("line", "column", "problem", title=title, title_style=style)
    for row in rows[:_SHOWN]:
        table.add_row(str(row.line), row.column or "", row.problem)
    console.print(table)
    if len(rows) > _SHOWN:
        console.print(f"... and {len(rows) - _SHOWN} more (--errors FILE writes them all)")


# ---- catalog -----------------------------------------------------------------------------


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="Product CSV export.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    format: Annotated[
        str, typer.Option("--format", help="woocommerce | shopify | chatcart")
    ] = "chatcart",
    currency: Annotated[
        str | None,
        typer.Option(help="Currency of the file's prices (default: the shop's, VND in Vietnam)."),
    ] = None,
    errors: Annotated[
        Path | None, typer.Option(help="Also write every problem to this CSV file.")
    ] = None,
) -> None:
    """Import products from WooCommerce's or Shopify's product export, or chatcart's CSV.

    A product with a problem on any of its rows is skipped whole and listed (line, column,
    problem); the others import. Importing the same file again updates by handle / SKU."""
    if format not in ("woocommerce", "shopify", "chatcart"):
        raise _fail(f"--format must be woocommerce, shopify or chatcart, not {format!r}")
    chosen: ImportFormat = format  # type: ignore[assignment]
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}") from exc

    async def work(runtime: Runtime) -> ImportReport:
        async with runtime.sessions() as session:
            ws = await workspaces.get_by_slug(session, workspace)
        money = (currency or catalog.default_currency(ws.default_region)).upper()
        with _progress() as bar:
            task = bar.add_task("importing", total=None)
            return await catalog.import_csv(
                runtime.sessions,
                ws.id,
                data,
                chosen,
                money,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    report = _run(work)
    console.print(
        f"[bold]{report.rows}[/] rows, {report.products} products: "
        f"[green]{report.created} created[/], {report.updated} updated, "
        f"[{'red' if report.skipped else 'green'}]{report.skipped} skipped[/] "
        f"({report.duration:.1f} s)"
    )
    _problem_table("problems (products skipped)", report.errors, "red")
    _problem_table("warnings (imported)", report.warnings, "yellow")
    if errors is not None and report.errors:
        with errors.open("w", encoding="utf-8-sig", newline="") as sink:
            writer = csv.writer(sink)
            writer.writerow(["line", "column", "problem"])
            writer.writerows([e.line, e.column or "", e.problem] for e in report.errors)
        console.print(f"problems written to {errors}", markup=False)


def _problem_table(title: str, rows: list[RowProblem], style: str) -> None:
    if not rows:
        return
    table = Table("line", "column", "problem", title=title, title_style=style)
    for row in rows[:_SHOWN]:
        table.add_row(str(row.line), row.column or "", row.problem)
    console.print(table)
    if len(rows) > _SHOWN:
        console.print(f"... and {len(rows) - _SHOWN} more (--errors FILE writes them all)")


@catalog_app.command("search")
def catalog_search(
    query: Annotated[str, typer.Argument(help="Words; accents optional (ao thun = Áo thun).")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
) -> None:
    """Search the catalog as the shop's customers will (name, description, category, SKU)."""

    async def work(runtime: Runtime) -> Table:
        async with runtime.sessions() as session:
            ws = await workspaces.get_by_slug(session, workspace)
            cards = await catalog.search(session, ws.id, ProductQuery(q=query, limit=limit))
        table = Table("id", "name", "price", "stock", "status", "categories")
        for card in cards:
            table.add_row(
                str(card.id),
                card.name,
                card.price_text(),
                "-" if card.stock is None else str(card.stock),
                card.status,
                ", ".join(card.categories),
            )
        return table

    console.print(_run(work))


# Registered last: its commands use the helpers above.
from chatcart.cli_flows import flows_app  # noqa: E402

app.add_typer(flows_app, name="flows")
