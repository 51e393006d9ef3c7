"""`chatcart flows ...`: validate, test, import, export, publish, archive flow documents.

validate, test and schema need no database (CI runs them on a checkout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chatcart.cli import _fail, _run, console, err
from chatcart.flows import service as flows
from chatcart.flows.schema import json_schema
from chatcart.flows.schemas import FlowOut
from chatcart.flows.testing import run_path
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from chatcart.workspaces import service as workspaces

flows_app = typer.Typer(help="Bot flows: validate, test, import, export.", no_args_is_help=True)
WorkspaceOption = Annotated[str, typer.Option(help="Workspace slug.")]


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {file}: {exc}") from exc


@flows_app.command("validate")
def validate(
    files: Annotated[list[Path], typer.Argument(help="Flow documents (YAML or JSON).")],
) -> None:
    """Check flow documents; every problem is listed with its line. Exit code 1 if any."""
    failed = False
    for file in files:
        loaded = flows.load_document(_read(file))
        if loaded.ok:
            names = ", ".join(f.id for f in loaded.flows)
            console.print(f"[green]ok[/] {file}: {len(loaded.flows)} flow(s) ({names})")
            continue
        failed = True
        table = Table("line", "where", "problem", title=str(file), title_style="red")
        for error in loaded.errors:
            table.add_row(str(error.line or ""), error.path, error.message)
        console.print(table)
    if failed:
        raise typer.Exit(code=1)


@flows_app.command("test")
def test(
    path: Annotated[Path, typer.Argument(help="A conversation test file or a folder of them.")],
) -> None:
    """Run conversation tests ("user says X -> bot replies Y"); exit code 1 on a failure."""
    if not path.exists():
        raise _fail(f"{path} does not exist")
    results = run_path(path)
    if not results:
        raise _fail(f"no conversation tests (*.yaml) in {path}")
    for result in results:
        mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
        console.print(f"{mark} {Path(result.file).name}: {result.name}", highlight=False)
        for failure in result.failures:
            console.print(f"    {failure}", markup=False)
    failed = sum(not r.ok for r in results)
    console.print(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(code=1)


@flows_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of flow documents (docs/flow.schema.json)."""
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def _table(rows: list[FlowOut]) -> Table:
    table = Table("flow", "name", "status", "published version")
    for row in rows:
        version = str(row.published_number) if row.published_number else "-"
        table.add_row(row.key, row.name, row.status, version)
    return table


@flows_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A flow document or set (YAML or JSON).")],
    workspace: WorkspaceOption,
    publish: Annotated[bool, typer.Option(help="Publish them (else: drafts).")] = True,
) -> None:
    """Save the flows of a document in a workspace (new ones are created)."""
    text = _read(file)

    async def work(runtime: Runtime) -> list[FlowOut]:
        async with transaction(runtime.sessions) as session:
            ws = await workspaces.get_by_slug(session, workspace)
            return await flows.save(
                session, runtime.secrets, ws.id, text, publish=publish, actor="cli"
            )

    loaded = flows.load_document(text)
    if not loaded.ok:
        for error in loaded.errors:
            err.print(str(error), markup=False, highlight=False)
        raise _fail(f"{file} has {len(loaded.errors)} error(s); nothing imported")
    console.print(_table(_run(work)))


@flows_app.command("export")
def export(
    workspace: WorkspaceOption,
    flow: Annotated[list[str] | None, typer.Option(help="Only these flows (repeatable).")] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, or - for standard output.")
    ] = "-",
) -> None:
    """Write the workspace's flows (their drafts) as one YAML set."""

    async def work(runtime: Runtime) -> str:
        async with runtime.sessions() as session:
            ws = await workspaces.get_by_slug(session, workspace)
            return await flows.export(session, ws.id, flow)

    text = _run(work)
    if output == "-":
        print(text, end="")
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror or exc}") from exc
    err.print(f"exported to {output}")


@flows_app.command("list")
def list_(workspace: WorkspaceOption) -> None:
    """The workspace's flows and their published versions."""

    async def work(runtime: Runtime) -> list[FlowOut]:
        async with runtime.sessions() as session:
            ws = await workspaces.get_by_slug(session, workspace)
            return await flows.list_flows(session, ws.id)

    console.print(_table(_run(work)))


@flows_app.command("publish")
def publish(
    key: Annotated[str, typer.Argument(help="The flow's id.")], workspace: WorkspaceOption
) -> None:
    """Publish a flow's draft as a new version (runs in progress keep theirs)."""

    async def work(runtime: Runtime) -> FlowOut:
        async with transaction(runtime.sessions) as session:
            ws = await workspaces.get_by_slug(session, workspace)
            return await flows.publish(session, ws.id, key, actor="cli")

    console.print(_table([_run(work)]))


@flows_app.command("archive")
def archive(
    key: Annotated[str, typer.Argument(help="The flow's id.")], workspace: WorkspaceOption
) -> None:
    """Stop a flow from starting (conversations inside it finish)."""

    async def work(runtime: Runtime) -> FlowOut:
        async with transaction(runtime.sessions) as session:
            ws = await workspaces.get_by_slug(session, workspace)
            return await flows.archive(session, ws.id, key)

    console.print(_table([_run(work)]))


@flows_app.command("secret")
def secret(
    key: Annotated[str, typer.Argument(help="The flow's id.")], workspace: WorkspaceOption
) -> None:
    """Print the key that signs the flow's HTTP steps (give it to the receiving service)."""

    async def work(runtime: Runtime) -> str:
        async with runtime.sessions() as session:
            ws = await workspaces.get_by_slug(session, workspace)
            return await flows.signing_secret(session, runtime.secrets, ws.id, key)

    print(_run(work))
