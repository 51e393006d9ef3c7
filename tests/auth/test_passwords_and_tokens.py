from __future__ import annotations

import pytest
from sqlalchemy import select, text

from chatcart.auth import service as auth
from chatcart.auth.errors import EmailTaken
from chatcart.auth.passwords import hash_password, verify_password
from chatcart.auth.schemas import Role, UserCreate
from chatcart.kit.crypto import random_token, sha256_hex
from chatcart.kit.db import transaction
from chatcart.models import ApiToken, LoginFailure, User
from chatcart.runtime import Runtime
from tests.helpers.factory import PASSWORD, make_shop

ADDRESS = "203.0.113.7"


def test_hash_password_is_argon2id() -> None:
    hashed = hash_password("mật khẩu dài")
    assert hashed.startswith("$argon2id$")
    assert "mật khẩu" not in hashed
    assert hash_password("mật khẩu dài") != hashed  # salted


def test_verify_password() -> None:
    hashed = hash_password("correct horse")
    assert verify_password(hashed, "correct horse") is True
    assert verify_password(hashed, "wrong horse") is False
    assert verify_password(None, "x") is False
    assert verify_password("not-a-hash", "x") is False


async def test_authenticate_right_password(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    key = auth.failure_key(shop.email, ADDRESS)
    async with transaction(runtime.sessions) as session:
        principal = await auth.authenticate(session, shop.email, PASSWORD, key)
    assert principal is not None
    assert principal.workspace_id == shop.workspace_id
    assert principal.role is Role.owner
    assert principal.email == shop.email
    async with runtime.sessions() as session:
        user = await session.scalar(select(User).where(User.email == shop.email))
    assert user is not None
    assert user.last_login_at is not None


async def test_authenticate_email_is_case_insensitive(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        principal = await auth.authenticate(
            session, f"  {shop.email.upper()} ", PASSWORD, auth.failure_key(shop.email, ADDRESS)
        )
    assert principal is not None


@pytest.mark.parametrize("wrong", ["password", "email"])
async def test_authenticate_failures_return_none(runtime: Runtime, wrong: str) -> None:
    shop = await make_shop(runtime)
    email = "nobody@shop.test" if wrong == "email" else shop.email
    password = "not the password" if wrong == "password" else PASSWORD
    key = auth.failure_key(email, ADDRESS)
    async with transaction(runtime.sessions) as session:
        assert await auth.authenticate(session, email, password, key) is None
    async with runtime.sessions() as session:
        failures = (await session.scalars(select(LoginFailure))).all()
    assert [f.key for f in failures] == [key]


async def _delay(runtime: Runtime, key: str, free: int, max_delay: float) -> float:
    async with runtime.sessions() as session:
        return await auth.login_delay(session, key, free, max_delay)


async def _fail(runtime: Runtime, email: str, key: str) -> None:
    async with transaction(runtime.sessions) as session:
        assert await auth.authenticate(session, email, "wrong password", key) is None


async def test_login_delay_grows_then_caps_and_success_clears(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    key = auth.failure_key(shop.email, ADDRESS)
    other_key = auth.failure_key(shop.email, "198.51.100.1")
    free, max_delay = 2, 3.0
    delays = [await _delay(runtime, key, free, max_delay)]
    for _ in range(6):
        await _fail(runtime, shop.email, key)
        delays.append(await _delay(runtime, key, free, max_delay))
    # failures: 0, 1 -> free; 2 -> 0.5; then doubling; capped at max_delay.
    assert delays == [0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 3.0]
    # Another address is not slowed down by these failures.
    assert await _delay(runtime, other_key, free, max_delay) == 0.0

    async with transaction(runtime.sessions) as session:
        assert await auth.authenticate(session, shop.email, PASSWORD, key) is not None
    assert await _delay(runtime, key, free, max_delay) == 0.0


async def test_login_delay_with_runtime_settings(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    settings = runtime.settings
    key = auth.failure_key(shop.email, ADDRESS)
    for _ in range(settings.login_free_failures):
        assert (
            await _delay(
                runtime, key, settings.login_free_failures, settings.login_max_delay_seconds
            )
            == 0.0
        )
        await _fail(runtime, shop.email, key)
    delay = await _delay(
        runtime, key, settings.login_free_failures, settings.login_max_delay_seconds
    )
    assert 0.0 < delay <= settings.login_max_delay_seconds


async def test_token_lookup(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        principal = await auth.principal_for_token(session, shop.api_token)
    assert principal is not None
    assert principal.workspace_id == shop.workspace_id
    async with transaction(runtime.sessions) as session:
        assert await auth.principal_for_token(session, "cc_" + random_token(32)) is None
        assert await auth.principal_for_token(session, "") is None
    async with runtime.sessions() as session:
        row = await session.scalar(select(ApiToken))
    assert row is not None
    assert row.last_used_at is not None


async def test_new_token_is_found_and_revoked_token_is_not(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        issued = await auth.create_token(session, shop.workspace_id, "ci")
    assert issued.token.startswith(auth.TOKEN_PREFIX)
    assert issued.token != shop.api_token
    async with transaction(runtime.sessions) as session:
        found = await auth.principal_for_token(session, issued.token)
        assert found is not None
        assert found.workspace_id == shop.workspace_id
        row = await session.get(ApiToken, issued.id)
        assert row is not None
        row.revoked_at = row.created_at
    async with transaction(runtime.sessions) as session:
        assert await auth.principal_for_token(session, issued.token) is None


async def test_only_token_hash_is_stored(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM api_token"))).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert row["token_hash"] == sha256_hex(shop.api_token)
    for column, value in row.items():
        assert shop.api_token not in str(value), column
    # The displayed prefix is a short, non-secret part only.
    assert len(row["prefix"]) < len(shop.api_token) // 2


async def test_create_user_twice_in_same_workspace_is_email_taken(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    data = UserCreate(email="Agent@Shop.test", password="agent password", role=Role.agent)
    async with transaction(runtime.sessions) as session:
        principal = await auth.create_user(session, shop.workspace_id, data)
    assert principal.email == "agent@shop.test"
    async with transaction(runtime.sessions) as session:
        with pytest.raises(EmailTaken):
            await auth.create_user(session, shop.workspace_id, data)
        with pytest.raises(EmailTaken):
            await auth.create_user(
                session,
                shop.workspace_id,
                UserCreate(email=shop.email, password="whatever123", role=Role.admin),
            )
