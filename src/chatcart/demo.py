"""The demo workspace that `make run` seeds once: "Demo Shop", an owner login, a widget."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.auth import service as auth
from chatcart.auth.schemas import Role, UserCreate
from chatcart.channels import service as channels
from chatcart.config import Settings
from chatcart.kit.crypto import SecretBox, random_token
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate

DEMO_SLUG = "demo"
DEMO_EMAIL = "owner@demo.chatcart.local"


@dataclass
class DemoLogin:
    created: bool
    email: str
    password: str | None  # None when seeded earlier and the password file is gone
    demo_url: str
    admin_url: str


def _login_file(settings: Settings) -> Path:
    return settings.data_dir / "demo-login.txt"


async def seed(session: AsyncSession, secrets: SecretBox, settings: Settings) -> DemoLogin:
    base = settings.base_url.rstrip("/")
    existing = await workspaces.find(session, DEMO_SLUG)
    login_file = _login_file(settings)
    if existing is not None:
        password = None
        if login_file.exists():
            password = login_file.read_text(encoding="utf-8").strip() or None
        return DemoLogin(False, DEMO_EMAIL, password, f"{base}/demo", f"{base}/admin")
    workspace = await workspaces.create(
        session,
        WorkspaceCreate(name="Demo Shop", slug=DEMO_SLUG, timezone=settings.timezone, locale="vi"),
    )
    password = random_token(12)
    await auth.create_user(
        session,
        workspace.id,
        UserCreate(email=DEMO_EMAIL, password=password, name="Demo Owner", role=Role.owner),
    )
    await channels.create_webchat(session, secrets, workspace.id, "Demo Shop website")
    login_file.parent.mkdir(parents=True, exist_ok=True)
    login_file.write_text(password + "\n", encoding="utf-8")
    login_file.chmod(0o600)
    return DemoLogin(True, DEMO_EMAIL, password, f"{base}/demo", f"{base}/admin")
