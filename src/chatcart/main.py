"""create_app(): the application factory, its lifespan and the one error handler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from chatcart import __version__, demo
from chatcart.appointments import endpoints as appointments_api
from chatcart.catalog import endpoints as catalog_api
from chatcart.channels import webhooks
from chatcart.channels.webchat import endpoints as webchat
from chatcart.config import Settings, get_settings
from chatcart.conversations import endpoints as conversations_api
from chatcart.flows import endpoints as flows_api
from chatcart.kit.errors import AppError
from chatcart.orders import endpoints as orders_api
from chatcart.runtime import Runtime
from chatcart.sandbox.graph.app import create_graph_app
from chatcart.sandbox.graph.state import GraphState
from chatcart.segments import endpoints as segments_api
from chatcart.shop import endpoints as shop_endpoints
from chatcart.web import admin, contact_files, contact_page, fake_messenger, public
from chatcart.web import appointments as appointment_pages
from chatcart.web import broadcasts as broadcast_pages
from chatcart.web import catalog as catalog_pages
from chatcart.web import contacts as contacts_pages
from chatcart.web import flows as flows_pages
from chatcart.web import orders as orders_pages
from chatcart.web import segments as segment_pages
from chatcart.web import shop_settings as shop_settings_pages
from chatcart.web.session import LoginRequired
from chatcart.web.templating import render
from chatcart.worker.loops import Worker
from chatcart.workspaces import endpoints as workspaces_api

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "web" / "static"


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/webhooks/")) and "text/html" in request.headers.get(
        "accept", ""
    )


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if _wants_html(request):
        return render(
            request, "error.html", {"error": exc, "status": exc.status_code}, exc.status_code
        )
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status_code)


async def _api_validation_error(request: Request, exc: Exception) -> Response:
    """422 in the API's own envelope, naming each bad field."""
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"field": ".".join(str(p) for p in error["loc"]), "problem": error["msg"]}
        for error in exc.errors()
    ]
    first = fields[0] if fields else {"field": "", "problem": "invalid request"}
    body = {
        "code": "validation_failed",
        "message": f"{first['field']}: {first['problem']}",
        "details": {"fields": fields},
    }
    return JSONResponse({"error": body}, status_code=422)


async def _api_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
    return JSONResponse(
        {"error": {"code": code, "message": str(exc.detail)}},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    target = f"/admin/login?next={request.url.path}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _api(runtime: Runtime) -> FastAPI:
    api = FastAPI(
        title="chatcart API",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        description="REST API of chatcart. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `chatcart token create`). Every call is scoped to the token's workspace.",
    )
    api.state.runtime = runtime
    api.add_exception_handler(AppError, _app_error)
    api.add_exception_handler(RequestValidationError, _api_validation_error)
    api.add_exception_handler(StarletteHTTPException, _api_http_error)
    api.include_router(workspaces_api.router)
    api.include_router(conversations_api.router)
    api.include_router(segments_api.contacts_router)
    api.include_router(segments_api.router)
    api.include_router(flows_api.router)
    api.include_router(catalog_api.router)
    api.include_router(orders_api.router)
    api.include_router(appointments_api.router)
    return api


class _App(FastAPI):
    """The app, with Meta webhook POSTs served before the middleware stack and the router
    (channels/webhooks.py `fast_path`): the door every customer message comes through."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await webhooks.fast_path(self.state.ingress, scope, receive, send):
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, run_worker: bool = True) -> FastAPI:
    settings = settings or get_settings()
    runtime = Runtime.open(settings)  # raises ConfigError (e.g. no SECRET_KEY in production)

    graph = GraphState() if settings.sandbox else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if graph is not None:
            async with runtime.sessions() as session:
                pages = await demo.register_sandbox_pages(
                    session, runtime.secrets, runtime.settings, graph
                )
            log.info("Graph sandbox at %s serves Pages %s", demo.SANDBOX_PATH, pages)
        worker_task: asyncio.Task[None] | None = None
        if run_worker:
            worker_task = asyncio.create_task(Worker(runtime).run())
        try:
            yield
        finally:
            if worker_task is not None:
                worker_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker_task
            if graph is not None:
                await graph.drain()
            await runtime.close()

    app = _App(
        title="chatcart",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.ingress = webhooks.Ingress(runtime)
    app.add_middleware(
        SessionMiddleware,
        secret_key=runtime.settings.resolved_secret_key(),
        session_cookie="chatcart_session",
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
        max_age=14 * 86400,
    )
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/api/v1", _api(runtime))
    if graph is not None:
        app.state.graph_sandbox = graph
        app.mount(demo.SANDBOX_PATH, create_graph_app(graph))
        app.include_router(fake_messenger.router)
    app.include_router(public.router)
    app.include_router(admin.router)
    app.include_router(contacts_pages.router)
    app.include_router(flows_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(catalog_pages.media_router)
    app.include_router(orders_pages.router)
    app.include_router(appointment_pages.router)
    app.include_router(shop_settings_pages.router)
    app.include_router(broadcast_pages.router)
    app.include_router(contact_files.router)
    app.include_router(contact_page.router)
    app.include_router(segment_pages.router)
    app.include_router(webchat.router)
    app.include_router(shop_endpoints.router)  # before webhooks: /webhooks/store/{account}
    app.include_router(webhooks.router)

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: Exception) -> Response:
        if _wants_html(request):
            return render(request, "error.html", {"error": None, "status": 404}, 404)
        return JSONResponse({"error": {"code": "not_found", "message": "Not found"}}, 404)

    return app
