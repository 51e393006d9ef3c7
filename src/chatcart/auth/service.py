"""The auth room's only door: users, memberships, login, API tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.auth import repository
from chatcart.auth.errors import EmailTaken
from chatcart.auth.passwords import hash_password, verify_password
from chatcart.auth.schemas import IssuedToken, Principal, Role, UserCreate
from chatcart.kit.clock import utcnow
from chatcart.kit.crypto import random_token, sha256_hex
from chatcart.kit.textnorm import nfc
from chatcart.models import ApiToken, LoginFailure, Membership, User

TOKEN_PREFIX = "cc_"  # noqa: S105 (a prefix, not a secret)
FAILURE_WINDOW = timedelta(minutes=15)


async def create_user(session: AsyncSession, workspace_id: int, data: UserCreate) -> Principal:
    """Create the user and add them to the workspace. A user who already exists (same
    email, e.g. an agency member) is added as they are: their password does not change."""
    user = await repository.user_by_email(session, data.email)
    if user is None:
        user = User(email=data.email, name=data.name, password_hash=hash_password(data.password))
        session.add(user)
        await session.flush()
    elif await repository.membership(session, user.id, workspace_id):
        raise EmailTaken(f"{data.email} is already a member of this workspace", email=data.email)
    session.add(Membership(workspace_id=workspace_id, user_id=user.id, role=data.role.value))
    await session.flush()
    return Principal(
        user_id=user.id, workspace_id=workspace_id, role=data.role, email=user.email, name=user.name
    )


def failure_key(email: str, address: str) -> str:
    return sha256_hex(f"{nfc(email).strip().lower()}|{address}")


async def login_delay(session: AsyncSession, key: str, free: int, max_delay: float) -> float:
    """Seconds to wait before checking this attempt: doubles after `free` recent failures."""
    failures = await repository.count_failures(session, key, utcnow() - FAILURE_WINDOW)
    if failures < free:
        return 0.0
    return float(min(max_delay, 0.5 * 2 ** (failures - free)))


async def authenticate(
    session: AsyncSession, email: str, password: str, key: str
) -> Principal | None:
    """Check a login; None on failure. Unknown email and wrong password fail alike, in the
    same time. The failure is recorded, so the caller commits before it answers."""
    email = nfc(email).strip().lower()
    user = await repository.user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(LoginFailure(key=key, failed_at=utcnow()))
        await repository.prune_failures(session, utcnow() - FAILURE_WINDOW)
        return None
    membership = await repository.first_membership(session, user.id)
    if membership is None:
        return None
    await repository.clear_failures(session, key)
    user.last_login_at = utcnow()
    return Principal(
        user_id=user.id,
        workspace_id=membership.workspace_id,
        role=Role(membership.role),
        email=user.email,
        name=user.name,
    )


async def principal_for_session(
    session: AsyncSession, user_id: int, workspace_id: int
) -> Principal | None:
    """Re-check a browser session: the user must still be active and a member."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    membership = await repository.membership(session, user_id, workspace_id)
    if membership is None:
        return None
    return Principal(
        user_id=user.id,
        workspace_id=workspace_id,
        role=Role(membership.role),
        email=user.email,
        name=user.name,
    )


async def create_token(
    session: AsyncSession, workspace_id: int, name: str, user_id: int | None = None
) -> IssuedToken:
    token = TOKEN_PREFIX + random_token(32)
    row = ApiToken(
        workspace_id=workspace_id,
        user_id=user_id,
        name=name,
        token_hash=sha256_hex(token),
        prefix=token[:10],
    )
    session.add(row)
    await session.flush()
    return IssuedToken(id=row.id, token=token, prefix=row.prefix)


async def principal_for_token(session: AsyncSession, token: str) -> Principal | None:
    row = await repository.active_token(session, sha256_hex(token))
    if row is None:
        return None
    row.last_used_at = utcnow()
    return Principal(user_id=row.user_id, workspace_id=row.workspace_id, role=Role.admin)
