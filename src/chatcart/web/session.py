"""Browser sessions for the admin: a signed cookie holding user, workspace and CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from chatcart.auth import service as auth
from chatcart.auth.schemas import Principal
from chatcart.http_deps import RuntimeDep
from chatcart.kit.crypto import random_token, same
from chatcart.kit.errors import Forbidden


class LoginRequired(Exception):
    """Raised for an admin page without a session; answered with a redirect to /admin/login."""


def ensure_csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = random_token(24)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Every state-changing admin request carries the session's token, in the form or a
    header (HTMX sends the header)."""
    expected = request.session.get("csrf", "")
    given = request.headers.get("x-csrf-token", "")
    if not given:
        form = await request.form()
        value = form.get("csrf_token", "")
        given = value if isinstance(value, str) else ""
    if not expected or not given or not same(expected, given):
        raise Forbidden("The form has expired. Reload the page and try again.", code="csrf")


async def admin_principal(request: Request, runtime: RuntimeDep) -> Principal:
    user_id = request.session.get("user_id")
    workspace_id = request.session.get("workspace_id")
    if not isinstance(user_id, int) or not isinstance(workspace_id, int):
        raise LoginRequired
    # A short session of its own: long responses (the event stream) must not hold a
    # transaction, which on SQLite would be the write lock.
    async with runtime.sessions() as session:
        principal = await auth.principal_for_session(session, user_id, workspace_id)
    if principal is None:
        request.session.clear()
        raise LoginRequired
    return principal


AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
