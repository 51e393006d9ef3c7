"""FastAPI dependencies shared by the API routers and the admin UI: the runtime, a unit of
work per request, and who is calling (always scoped to one workspace)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.auth import service as auth
from chatcart.auth.schemas import Principal
from chatcart.kit.errors import NotAuthenticated
from chatcart.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def db_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the handler returns without error."""
    async with runtime.sessions() as session, session.begin():
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session)]

_bearer = HTTPBearer(auto_error=False, description="An API token from `chatcart token create`")


async def api_principal(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("Send an API token as 'Authorization: Bearer <token>'.")
    principal = await auth.principal_for_token(session, credentials.credentials)
    if principal is None:
        raise NotAuthenticated("This API token is unknown or revoked.", code="invalid_token")
    return principal


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
