"""Public pages: the demo shop site that carries the widget, and the health checks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text

from chatcart import migrate
from chatcart.channels import service as channels
from chatcart.demo import DEMO_SLUG
from chatcart.http_deps import RuntimeDep
from chatcart.web.templating import render
from chatcart.workspaces import service as workspaces

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return render(request, "index.html")


@router.get("/demo", response_class=HTMLResponse)
async def demo(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    async with runtime.sessions() as session:
        workspace = await workspaces.find(session, DEMO_SLUG)
        accounts = (
            await channels.list_accounts(session, workspace.id, "webchat") if workspace else []
        )
    return render(
        request,
        "demo.html",
        {"workspace": workspace, "widget_key": accounts[0].external_id if accounts else None},
        status_code=200 if accounts else 404,
    )


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await migrate.current_revision(runtime.engine)
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"}, 503
        )
    head = migrate.head_revision(runtime.settings.database_url)
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "ok",
                "migrations": {"current": current, "head": head},
            },
            503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "migrations": {"current": current}})
