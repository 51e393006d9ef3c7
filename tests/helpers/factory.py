"""Rows for tests, made through the services (the same doors the product uses)."""

from __future__ import annotations

from dataclasses import dataclass

from chatcart.auth import service as auth
from chatcart.auth.schemas import Role, UserCreate
from chatcart.channels import service as channels
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate

PASSWORD = "correct horse battery"


@dataclass
class Shop:
    workspace_id: int
    slug: str
    email: str
    password: str
    widget_key: str
    widget_account_id: int
    api_token: str


async def make_shop(runtime: Runtime, slug: str = "shop", name: str = "Shop Áo Thun") -> Shop:
    async with transaction(runtime.sessions) as session:
        ws = await workspaces.create(session, WorkspaceCreate(name=name, slug=slug))
        email = f"owner@{slug}.test"
        await auth.create_user(
            session, ws.id, UserCreate(email=email, password=PASSWORD, role=Role.owner)
        )
        widget = await channels.create_webchat(session, runtime.secrets, ws.id, "Website")
        token = await auth.create_token(session, ws.id, "tests")
    return Shop(ws.id, slug, email, PASSWORD, widget.external_id, widget.id, token.token)
