"""The channels room's only door: channel accounts and the record of every inbound event."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.channels import repository
from chatcart.channels.base import AccountRef, ChannelAdapter, InboundEvent
from chatcart.channels.errors import ChannelAccountNotFound
from chatcart.channels.schemas import (
    ChannelAccountOut,
    ClaimedInbound,
    NewInbound,
    RawDelivery,
    RecordedEvent,
)
from chatcart.kit import jsonx
from chatcart.kit.claims import claim_due_rows
from chatcart.kit.clock import utcnow
from chatcart.kit.crypto import SecretBox, random_token
from chatcart.kit.errors import Conflict, ValidationFailed
from chatcart.models import ChannelAccount
from chatcart.models import InboundEvent as InboundRow


async def create_account(
    session: AsyncSession,
    secrets: SecretBox,
    *,
    workspace_id: int,
    kind: str,
    name: str,
    external_id: str,
    credentials: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
) -> ChannelAccountOut:
    row = ChannelAccount(
        workspace_id=workspace_id,
        kind=kind,
        name=name,
        external_id=external_id,
        credentials_encrypted=secrets.encrypt(jsonx.dumps(credentials)) if credentials else None,
        settings=settings or {},
    )
    session.add(row)
    await session.flush()
    return ChannelAccountOut.model_validate(row)


async def create_webchat(
    session: AsyncSession, secrets: SecretBox, workspace_id: int, name: str
) -> ChannelAccountOut:
    """A website widget; its external id is the public key the embed snippet carries."""
    return await create_account(
        session,
        secrets,
        workspace_id=workspace_id,
        kind="webchat",
        name=name,
        external_id="wk_" + random_token(16),
        settings={"greeting": None},
    )


async def connect_meta(
    session: AsyncSession,
    secrets: SecretBox,
    *,
    workspace_id: int,
    kind: str,
    name: str,
    external_id: str,
    page_token: str,
    app_secret: str,
    verify_token: str | None = None,
    page_id: str | None = None,
    extra_settings: dict[str, Any] | None = None,
) -> ChannelAccountOut:
    """Connect a Facebook Page (kind messenger) or an Instagram professional account linked
    to a Page (kind instagram). Reconnecting the same account replaces its credentials."""
    if kind not in {"messenger", "instagram"}:
        raise ValidationFailed(f"not a Meta channel: {kind}", field="kind")
    for field, value in (("page_token", page_token), ("app_secret", app_secret)):
        if not value.strip():
            raise ValidationFailed(f"{field} is empty", field=field)
    if kind == "instagram" and not (page_id or "").strip():
        raise ValidationFailed(
            "an Instagram account is connected through its linked Facebook Page: give the Page id",
            field="page_id",
        )
    existing = await repository.account_by_external(session, kind, external_id)
    kept_verify = ""
    if existing is not None and existing.credentials_encrypted:
        # Reconnecting with a new token keeps the verify token already pasted into Meta.
        kept_verify = jsonx.loads(secrets.decrypt(existing.credentials_encrypted)).get(
            "verify_token", ""
        )
    credentials = {
        "page_token": page_token.strip(),
        "app_secret": app_secret.strip(),
        "verify_token": (verify_token or "").strip() or kept_verify or random_token(18),
    }
    settings: dict[str, Any] = {"page_id": page_id or external_id, **(extra_settings or {})}
    if existing is not None:
        if existing.workspace_id != workspace_id:
            raise Conflict(f"this {kind} account is connected to another workspace")
        existing.credentials_encrypted = secrets.encrypt(jsonx.dumps(credentials))
        existing.settings = {**existing.settings, **settings}
        existing.name = name or existing.name
        _set_status(existing, "active", None)
        await session.flush()
        return ChannelAccountOut.model_validate(existing)
    return await create_account(
        session,
        secrets,
        workspace_id=workspace_id,
        kind=kind,
        name=name or f"{kind} {external_id}",
        external_id=external_id,
        credentials=credentials,
        settings=settings,
    )


def _set_status(row: ChannelAccount, status: str, reason: str | None) -> None:
    row.status = status
    row.status_reason = reason
    row.status_changed_at = utcnow()


async def flag_reauth(session: AsyncSession, account_id: int, reason: str) -> bool:
    """The platform refused the account's token: it needs reconnecting in the admin.
    Returns True when this changed the status (so the caller can announce it)."""
    row = await repository.account(session, account_id)
    if row is None or row.status == "reauth_required":
        return False
    _set_status(row, "reauth_required", reason)
    return True


async def verify_token_of(session: AsyncSession, secrets: SecretBox, account_id: int) -> str:
    ref = await account_ref(session, secrets, account_id)
    return ref.credentials.get("verify_token", "")


async def find_account(
    session: AsyncSession, kind: str, external_id: str
) -> ChannelAccountOut | None:
    row = await repository.account_by_external(session, kind, external_id)
    return ChannelAccountOut.model_validate(row) if row else None


async def get_account(
    session: AsyncSession, account_id: int, workspace_id: int | None = None
) -> ChannelAccountOut:
    row = await repository.account(session, account_id)
    if row is None or (workspace_id is not None and row.workspace_id != workspace_id):
        raise ChannelAccountNotFound(f"no channel account {account_id}")
    return ChannelAccountOut.model_validate(row)


async def list_accounts(
    session: AsyncSession, workspace_id: int, kind: str | None = None
) -> list[ChannelAccountOut]:
    return [
        ChannelAccountOut.model_validate(r)
        for r in await repository.accounts_of(session, workspace_id, kind)
    ]


async def account_ref(session: AsyncSession, secrets: SecretBox, account_id: int) -> AccountRef:
    row = await repository.account(session, account_id)
    if row is None:
        raise ChannelAccountNotFound(f"no channel account {account_id}")
    return _ref(secrets, row)


async def account_with_ref(
    session: AsyncSession, secrets: SecretBox, account_id: int
) -> tuple[ChannelAccountOut, AccountRef]:
    """The account and its decrypted credentials from one read."""
    row = await repository.account(session, account_id)
    if row is None:
        raise ChannelAccountNotFound(f"no channel account {account_id}")
    return ChannelAccountOut.model_validate(row), _ref(secrets, row)


async def account_states(
    session: AsyncSession, secrets: SecretBox, account_ids: set[int]
) -> dict[int, tuple[AccountRef, str]]:
    """Many accounts with their decrypted credentials and status, in one query (the
    dispatcher's batch); an id that does not exist is left out."""
    out: dict[int, tuple[AccountRef, str]] = {}
    for row in await repository.accounts_by_ids(session, account_ids):
        out[row.id] = (_ref(secrets, row), row.status)
    return out


def _ref(secrets: SecretBox, row: ChannelAccount) -> AccountRef:
    credentials = (
        jsonx.loads(secrets.decrypt(row.credentials_encrypted)) if row.credentials_encrypted else {}
    )
    return AccountRef(
        id=row.id,
        kind=row.kind,
        external_id=row.external_id,
        credentials=credentials,
        settings=row.settings,
    )


async def record_inbound(
    session: AsyncSession,
    account: ChannelAccountOut,
    *,
    external_id: str,
    body: bytes,
    sender_external_id: str | None = None,
) -> RecordedEvent:
    """Store a raw event once; a redelivery of the same external id is a no-op."""
    existing = await repository.inbound_by_external(session, account.id, external_id)
    if existing is not None:
        return RecordedEvent(id=existing.id, created=False)
    now = utcnow()
    row = InboundRow(
        workspace_id=account.workspace_id,
        channel_account_id=account.id,
        external_id=external_id,
        sender_external_id=sender_external_id,
        body=body.decode("utf-8"),
        received_at=now,
        available_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent delivery of the same event won the race
        existing = await repository.inbound_by_external(session, account.id, external_id)
        if existing is None:
            raise
        return RecordedEvent(id=existing.id, created=False)
    return RecordedEvent(id=row.id, created=True)


async def record_deliveries(session: AsyncSession, deliveries: list[RawDelivery]) -> int:
    """Store webhook POSTs as received (one statement), then the items split from them (one
    more), each item pointing at its POST. Returns how many items were new."""
    if not deliveries:
        return 0
    now = utcnow()
    ids = await repository.insert_deliveries(
        session,
        [
            {
                "workspace_id": d.workspace_id,
                "channel_account_id": d.channel_account_id,
                "received_at": now,
                "body": d.body,
                "items": len(d.items),
                "error": d.error,
            }
            for d in deliveries
        ],
    )
    items: list[tuple[NewInbound, int | None]] = [
        (item, ids[n]) for n, d in enumerate(deliveries) for item in d.items
    ]
    return await _record_items(session, items)


async def record_inbound_many(session: AsyncSession, events: list[NewInbound]) -> int:
    """Store many raw events in one statement; redeliveries (same account + external id,
    also twice within one batch) are skipped. Returns how many were new."""
    return await _record_items(session, [(event, None) for event in events])


async def _record_items(session: AsyncSession, events: list[tuple[NewInbound, int | None]]) -> int:
    if not events:
        return 0
    now = utcnow()
    rows = [
        {
            "delivery_id": delivery_id,
            "workspace_id": e.workspace_id,
            "channel_account_id": e.channel_account_id,
            "external_id": e.external_id,
            "sender_external_id": e.sender_external_id,
            "body": e.body,
            "status": e.status,
            "error": e.error,
            "attempts": 0,
            "received_at": now,
            "available_at": now,
            "processed_at": now if e.status != "pending" else None,
        }
        for e, delivery_id in events
    ]
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    # Core, not the ORM bulk path: this is the ingress hot path.
    table = cast(Table, InboundRow.__table__)
    statement = insert(table).on_conflict_do_nothing(
        index_elements=["channel_account_id", "external_id"]
    )
    result = await session.execute(statement.returning(table.c.id), rows)
    return len(result.all())


async def pending_bodies_from(
    session: AsyncSession, account_id: int, sender_external_id: str
) -> list[str]:
    rows = await repository.pending_inbound_from(session, account_id, sender_external_id)
    return [row.body for row in rows]


async def claim_inbound(
    session: AsyncSession, worker_id: str, batch: int, lease_seconds: int
) -> list[int]:
    return [row.id for row in await claim_inbound_rows(session, worker_id, batch, lease_seconds)]


async def claim_inbound_rows(
    session: AsyncSession, worker_id: str, batch: int, lease_seconds: int
) -> list[ClaimedInbound]:
    """`claim_inbound` and `load_claimed` in one statement."""
    rows = await claim_due_rows(
        session,
        InboundRow,
        ready_status="pending",
        due_column=InboundRow.available_at,
        worker_id=worker_id,
        batch=batch,
        lease_seconds=lease_seconds,
        columns=_CLAIMED_COLUMNS,
    )
    return [_claimed(row) for row in rows]


async def load_claimed(session: AsyncSession, event_ids: list[int]) -> list[ClaimedInbound]:
    return [_claimed(row) for row in await repository.inbound_rows(session, event_ids)]


_CLAIMED_COLUMNS = (
    InboundRow.workspace_id,
    InboundRow.channel_account_id,
    InboundRow.body,
    InboundRow.sender_external_id,
)


def _claimed(row: Any) -> ClaimedInbound:
    return ClaimedInbound(
        id=row.id,
        workspace_id=row.workspace_id,
        channel_account_id=row.channel_account_id,
        body=row.body.encode("utf-8"),
        sender_id=row.sender_external_id,
    )


async def take_inbound(session: AsyncSession, event_id: int, worker_id: str) -> bool:
    """Lock a claimed event for processing; False if it is no longer ours or already done."""
    row = await session.get(InboundRow, event_id, with_for_update=True, populate_existing=True)
    return row is not None and row.status == "pending" and row.claimed_by == worker_id


async def take_inbound_many(
    session: AsyncSession, event_ids: list[int], worker_id: str
) -> set[int]:
    """`take_inbound` for a batch, in one query: the ids still ours and pending, locked."""
    return await repository.lock_pending_inbound(session, event_ids, worker_id)


async def finish_inbound_many(session: AsyncSession, event_ids: list[int]) -> None:
    """Mark a batch of events done (no error) in one statement."""
    if not event_ids:
        return
    await session.execute(_finish_many(), {"ids": event_ids, "now": utcnow()})


@cache
def _finish_many() -> Any:
    # Built once (the ids and the time as parameters): a batch's hot path.
    return (
        update(InboundRow)
        .where(InboundRow.id.in_(bindparam("ids", expanding=True)))
        .values(
            status="done",
            error=None,
            processed_at=bindparam("now"),
            attempts=InboundRow.attempts + 1,
            claimed_by=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )


def parse_inbound(
    adapters: dict[str, ChannelAdapter], account: AccountRef, body: bytes
) -> list[InboundEvent]:
    return adapters[account.kind].parse(body, account)


async def finish_inbound(session: AsyncSession, event_id: int, error: str | None = None) -> None:
    await session.execute(
        update(InboundRow)
        .where(InboundRow.id == event_id)
        .values(
            status="failed" if error else "done",
            error=error,
            processed_at=utcnow(),
            attempts=InboundRow.attempts + 1,
            claimed_by=None,
            claimed_until=None,
        )
    )


async def retry_inbound(
    session: AsyncSession, event_id: int, error: str, max_attempts: int
) -> bool:
    """After a processing crash: back off and try again, or give up (kept, status failed).
    Returns True when the event was given up."""
    row = await session.get(InboundRow, event_id, with_for_update=True, populate_existing=True)
    if row is None:
        return True
    row.attempts += 1
    row.error = error
    row.claimed_by = None
    row.claimed_until = None
    if row.attempts >= max_attempts:
        row.status = "failed"
        row.processed_at = utcnow()
        return True
    row.available_at = utcnow() + timedelta(seconds=min(300, 2**row.attempts))
    return False
