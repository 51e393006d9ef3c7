"""create_graph_app(): the fake Graph API as an ASGI app (FastAPI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from chatcart.sandbox.graph import persist
from chatcart.sandbox.graph.control import router as control_router
from chatcart.sandbox.graph.errors import GraphError, unknown_path
from chatcart.sandbox.graph.routes import graph_error, routes
from chatcart.sandbox.graph.state import GraphState


def create_graph_app(state: GraphState | None = None, *, state_file: Path | None = None) -> FastAPI:
    graph = state or GraphState()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state_file is not None:
            persist.load(graph, state_file)
        yield
        await graph.drain()
        if state_file is not None:
            persist.save(graph, state_file)

    app = FastAPI(
        title="chatcart sandbox: Graph API",
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
        lifespan=lifespan,
    )
    app.state.graph = graph
    app.include_router(control_router)  # before the Graph catch-alls: /_sandbox/* first
    app.router.routes.extend(routes)

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/_sandbox"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        err: GraphError = unknown_path(request.url.path)
        return graph_error(request, err)

    return app
