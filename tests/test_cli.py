"""The `chatcart` command, run as a user runs it (a child process on the test database)."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import select

from chatcart import migrate
from chatcart.models import ApiToken, ChannelAccount, Membership, User, Workspace
from chatcart.runtime import Runtime
from tests.helpers.servers import settings_env


def cli(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatcart", *args],
        env=settings_env(runtime.settings) | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_workspace_user_token_and_widget(runtime: Runtime) -> None:
    made = cli(runtime, "workspace", "create", "--name", "Shop Hoa Mai", "--slug", "hoa-mai")
    assert made.returncode == 0, made.stderr
    assert "hoa-mai" in made.stdout

    again = cli(runtime, "workspace", "create", "--name", "X", "--slug", "hoa-mai")
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr

    user = cli(
        runtime,
        "user", "create", "--email", "Owner@HoaMai.vn", "--password", "mật khẩu dài",
        "--role", "owner", "--workspace", "hoa-mai",
    )  # fmt: skip
    assert user.returncode == 0, user.stderr
    token = cli(runtime, "token", "create", "--workspace", "hoa-mai", "--name", "zapier")
    assert token.returncode == 0, token.stderr
    plaintext = token.stdout.strip()
    assert plaintext.startswith("cc_")
    widget = cli(runtime, "channels", "add", "webchat", "--workspace", "hoa-mai")
    assert widget.returncode == 0, widget.stderr
    assert '/widget.js" data-chatcart-key="wk_' in widget.stdout

    async with runtime.sessions() as session:
        workspace = await session.scalar(select(Workspace).where(Workspace.slug == "hoa-mai"))
        assert workspace is not None and workspace.name == "Shop Hoa Mai"
        owner = await session.scalar(select(User))
        assert owner is not None and owner.email == "owner@hoamai.vn"
        assert owner.password_hash.startswith("$argon2id$")
        role = await session.scalar(select(Membership.role))
        assert role == "owner"
        stored = await session.scalar(select(ApiToken))
        assert stored is not None and plaintext not in (stored.token_hash, stored.prefix)
        assert (await session.scalar(select(ChannelAccount.kind))) == "webchat"


async def test_user_mistakes_are_clear_errors(runtime: Runtime) -> None:
    bad_email = cli(
        runtime, "user", "create", "--email", "not-an-email", "--password", "longenough",
        "--workspace", "nope",
    )  # fmt: skip
    assert bad_email.returncode == 1
    assert "email" in bad_email.stderr
    unknown = cli(
        runtime, "user", "create", "--email", "a@b.vn", "--password", "longenough",
        "--workspace", "nope",
    )  # fmt: skip
    assert unknown.returncode == 1
    assert "no workspace with slug 'nope'" in unknown.stderr
    bad_tz = cli(
        runtime, "workspace", "create", "--name", "X", "--slug", "xx", "--timezone", "Mars"
    )
    assert bad_tz.returncode == 1
    assert "unknown time zone" in bad_tz.stderr
    for result in (bad_email, unknown, bad_tz):
        assert "Traceback" not in result.stderr


async def test_demo_seed_runs_once_and_prints_the_login(runtime: Runtime) -> None:
    first = cli(runtime, "demo", "seed")
    assert first.returncode == 0, first.stderr
    assert "Demo shop seeded" in first.stdout
    password = first.stdout.split("password  : ")[1].split()[0]
    second = cli(runtime, "demo", "seed")
    assert second.returncode == 0, second.stderr
    assert "Demo shop ready" in second.stdout
    assert f"password  : {password}" in second.stdout
    assert "owner@demo.chatcart.local" in second.stdout
    async with runtime.sessions() as session:
        assert len((await session.scalars(select(Workspace))).all()) == 1


async def test_db_current_is_at_head(runtime: Runtime) -> None:
    result = cli(runtime, "db", "current")
    assert result.returncode == 0, result.stderr
    head = migrate.head_revision(runtime.settings.database_url)
    assert f"current: {head}  head: {head}" in result.stdout


async def test_production_without_secret_key_refuses_to_start(runtime: Runtime) -> None:
    env = settings_env(runtime.settings)
    env.pop("CHATCART_SECRET_KEY")
    env["CHATCART_MODE"] = "production"
    result = subprocess.run(
        [sys.executable, "-m", "chatcart", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "CHATCART_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
