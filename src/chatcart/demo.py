"""The demo workspace that `make run` seeds once: "Demo Shop", an owner login, a widget,
a Vietnamese fashion catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.appointments import service as appointments
from chatcart.appointments.schemas import BookingRules, ServiceIn
from chatcart.auth import service as auth
from chatcart.auth.schemas import Role, UserCreate
from chatcart.catalog import service as catalog
from chatcart.catalog.storage import disk_store
from chatcart.channels import service as channels
from chatcart.config import Settings
from chatcart.flows import service as flows
from chatcart.kit.crypto import SecretBox, random_token
from chatcart.orders import service as orders
from chatcart.sandbox.graph.state import GraphState
from chatcart.shop import service as shop
from chatcart.shop.schemas import ShippingRule
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate

DEMO_SLUG = "demo"
DEMO_EMAIL = "owner@demo.chatcart.local"
DEMO_PAGE_ID = "100000000000001"
DEMO_POST_ID = f"{DEMO_PAGE_ID}_200000000000001"
DEMO_CUSTOMER = {"psid": "6100000000000001", "first_name": "Lan", "last_name": "Trần"}
SANDBOX_PATH = "/sandbox/graph"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEMO_SERVICES = (
    ServiceIn(name_vi="Tư vấn phối đồ", name_en="Styling session", duration_minutes=30, price=0),
    ServiceIn(
        name_vi="Sửa đồ, lên lai quần",
        name_en="Alterations and hemming",
        duration_minutes=15,
        price=30000,
    ),
)


@dataclass
class DemoLogin:
    created: bool
    email: str
    password: str | None  # None when seeded earlier and the password file is gone
    demo_url: str
    admin_url: str
    products_added: int = 0


def _login_file(settings: Settings) -> Path:
    return settings.data_dir / "demo-login.txt"


async def seed(session: AsyncSession, secrets: SecretBox, settings: Settings) -> DemoLogin:
    base = settings.base_url.rstrip("/")
    existing = await workspaces.find(session, DEMO_SLUG)
    login_file = _login_file(settings)
    if existing is not None:
        if not await channels.find_account(session, "messenger", DEMO_PAGE_ID):
            await connect_demo_page(session, secrets, settings, existing.id)  # seeded before
        await seed_flows(session, secrets, existing.id)  # those added since it was seeded
        password = None
        if login_file.exists():
            password = login_file.read_text(encoding="utf-8").strip() or None
        added = await catalog.seed_demo(session, disk_store(settings.data_dir), existing.id)
        if added:
            await orders.seed_demo(session, existing.id)
        await _shop_settings(session, existing.id, base)
        await seed_appointments(session, existing.id)
        return DemoLogin(False, DEMO_EMAIL, password, f"{base}/demo", f"{base}/admin", added)
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
    await connect_demo_page(session, secrets, settings, workspace.id)
    await seed_flows(session, secrets, workspace.id)
    login_file.parent.mkdir(parents=True, exist_ok=True)
    login_file.write_text(password + "\n", encoding="utf-8")
    login_file.chmod(0o600)
    added = await catalog.seed_demo(session, disk_store(settings.data_dir), workspace.id)
    if added:
        await orders.seed_demo(session, workspace.id)
    await _shop_settings(session, workspace.id, base)
    await seed_appointments(session, workspace.id)
    return DemoLogin(True, DEMO_EMAIL, password, f"{base}/demo", f"{base}/admin", added)


async def _shop_settings(session: AsyncSession, workspace_id: int, base: str) -> None:
    """Pay pages at this server's address (the sandbox provider), shipping 30.000 ₫ (Hà
    Nội and Hồ Chí Minh City 20.000 ₫), free from 500.000 ₫."""
    rule = ShippingRule(
        flat=30000, free_above=500000, provinces={"Hà Nội": 20000, "Hồ Chí Minh": 20000}
    )
    await shop.save_settings(session, workspace_id, public_url=base, shipping=rule)


async def seed_flows(session: AsyncSession, secrets: SecretBox, workspace_id: int) -> None:
    """The demo shop's bot: greeting, FAQ, phone number, TikTok ref link, the "Đã share"
    mini-game, my orders, reorder, the style quiz, booking, talk to a human
    (flows/library/demo_shop.yaml), published. A demo seeded earlier gets the flows added
    since; the ones it has are left as they are (the seller may have edited them)."""
    text = flows.library("demo_shop")
    have = {flow.key for flow in await flows.list_flows(session, workspace_id)}
    if have:
        document = yaml.safe_load(text)
        missing = [flow for flow in document["flows"] if flow["id"] not in have]
        if not missing:
            return
        text = yaml.safe_dump({"flows": missing}, allow_unicode=True, sort_keys=False)
    await flows.save(session, secrets, workspace_id, text, publish=True, actor="demo")


async def seed_appointments(session: AsyncSession, workspace_id: int) -> None:
    """A service menu (a 30-minute styling session, 15-minute alterations), opening hours
    Mon-Sat 9:00-12:00 and 13:30-20:00, Sunday 9:00-17:00, two staff; once."""
    if await appointments.list_services(session, workspace_id):
        return
    week = {day: [("09:00", "12:00"), ("13:30", "20:00")] for day in WEEKDAYS[:6]}
    rules = BookingRules(
        hours={**week, "sun": [("09:00", "17:00")]},
        capacity=2,
        step_minutes=30,
        min_notice_minutes=60,
        days_ahead=14,
    )
    await appointments.save_rules(session, workspace_id, rules)
    for position, service in enumerate(DEMO_SERVICES):
        await appointments.save_service(
            session, workspace_id, service.model_copy(update={"position": position})
        )


def sandbox_url(settings: Settings) -> str:
    return settings.base_url.rstrip("/") + SANDBOX_PATH


async def connect_demo_page(
    session: AsyncSession, secrets: SecretBox, settings: Settings, workspace_id: int
) -> None:
    """The demo's Facebook Page lives in the built-in Graph sandbox (see docs/sandbox.md)."""
    await channels.connect_meta(
        session,
        secrets,
        workspace_id=workspace_id,
        kind="messenger",
        name="Demo Shop (Fake Messenger)",
        external_id=DEMO_PAGE_ID,
        page_token="EAA" + random_token(24),
        app_secret=random_token(24),
        extra_settings={"graph_api_url": sandbox_url(settings), "auto_private_reply": True},
    )


async def register_sandbox_pages(
    session: AsyncSession, secrets: SecretBox, settings: Settings, graph: GraphState
) -> list[str]:
    """Tell the in-process sandbox about every Page that lives in it (its state is in
    memory: this runs at every start). Returns the Page ids."""
    base = settings.base_url.rstrip("/")
    registered = []
    for workspace in await workspaces.list_all(session):
        for account in await channels.list_accounts(session, workspace.id, "messenger"):
            if account.settings.get("graph_api_url") != sandbox_url(settings):
                continue
            ref = await channels.account_ref(session, secrets, account.id)
            graph.add_page(
                account.external_id,
                ref.credentials["page_token"],
                ref.credentials["app_secret"],
                f"{base}/webhooks/messenger/{account.id}",
                name=account.name,
                granted_profile_fields=("first_name", "last_name", "profile_pic"),
            )
            graph.add_user(
                account.external_id,
                DEMO_CUSTOMER["psid"],
                first_name=DEMO_CUSTOMER["first_name"],
                last_name=DEMO_CUSTOMER["last_name"],
            )
            registered.append(account.external_id)
    return registered
