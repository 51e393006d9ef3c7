"""`chatcart sandbox ...`: serve the fake platform servers (registered by chatcart.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from chatcart.sandbox.graph import create_graph_app

app = typer.Typer(help="Fake platform servers for tests and the demo.", no_args_is_help=True)


@app.command()
def graph(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8900,
    state_file: Annotated[
        Path | None,
        typer.Option(help="JSON file: pages, users, features loaded at start, saved at exit."),
    ] = None,
) -> None:
    """Serve the fake Meta Graph API (Messenger + Instagram); control API under /_sandbox/."""
    uvicorn.run(create_graph_app(state_file=state_file), host=host, port=port, log_level="info")


@app.callback()
def main() -> None:
    """Fake platform servers."""
