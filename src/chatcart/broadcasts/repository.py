"""The broadcasts room's queries (only this module builds them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    Subquery,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatcart.models import (
    Broadcast,
    BroadcastRecipient,
    Contact,
    ContactConsent,
    ContactFieldValue,
    ContactIdentity,
    Conversation,
    FieldDefinition,
    Message,
    OptinToken,
    OutboundMessage,
)


def _sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def broadcast(
    session: AsyncSession, workspace_id: int | None, broadcast_id: int, *, lock: bool = False
) -> Broadcast | None:
    query = select(Broadcast).where(Broadcast.id == broadcast_id)
    if workspace_id is not None:
        query = query.where(Broadcast.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def broadcasts_of(session: AsyncSession, workspace_id: int) -> Sequence[Broadcast]:
    query = (
        select(Broadcast)
        .where(Broadcast.workspace_id == workspace_id)
        .order_by(Broadcast.id.desc())
    )
    return (await session.scalars(query)).all()


async def runnable_ids(session: AsyncSession, now: datetime) -> list[int]:
    """Broadcasts with work: running ones, scheduled ones that are due, and ones paused
    for a reconnect (they resume themselves)."""
    query = select(Broadcast.id).where(
        or_(
            Broadcast.status == "running",
            and_(Broadcast.status == "scheduled", Broadcast.scheduled_at <= now),
            and_(Broadcast.status == "paused", Broadcast.paused_by == "reauth"),
        )
    )
    return list((await session.scalars(query.order_by(Broadcast.id))).all())


async def freeze(
    session: AsyncSession, broadcast_id: int, audience: Select[Any], at: datetime
) -> int:
    """The audience into recipient rows, in ONE INSERT ... SELECT (unique per contact)."""
    members = audience.subquery()
    contact_id = next(iter(members.c))
    source = select(
        literal(broadcast_id), contact_id, literal("pending"), literal(at), literal(0)
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    insert = sqlite_insert if _sqlite(session) else pg_insert
    statement = (
        insert(BroadcastRecipient)
        .from_select(
            ["broadcast_id", "contact_id", "status", "next_attempt_at", "attempts"], source
        )
        .on_conflict_do_nothing(index_elements=["broadcast_id", "contact_id"])
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(slots=True)
class Claimed:
    """One claimed recipient as plain values (the run's hot path holds no ORM rows)."""

    id: int
    contact_id: int
    attempts: int
    next_attempt_at: datetime
    error_code: str | None
    error_message: str | None
    status: str = "pending"
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    channel_account_id: int | None = None
    identity_id: int | None = None
    rule: str | None = None
    reason: str | None = None
    rendered: str | None = None
    outbound_id: int | None = None
    external_id: str | None = None
    sent_at: datetime | None = None
    updated_at: datetime | None = None


async def claim(
    session: AsyncSession,
    broadcast_id: int,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    now: datetime,
) -> list[Claimed]:
    """Due pending recipients of one broadcast, claimed with ONE UPDATE ... RETURNING (the
    due ids chosen in a subquery, FOR UPDATE SKIP LOCKED on PostgreSQL), in id order."""
    R = BroadcastRecipient
    due = (
        select(R.id)
        .where(
            R.broadcast_id == broadcast_id,
            R.status == "pending",
            R.next_attempt_at <= now,
            or_(R.claimed_until.is_(None), R.claimed_until < now),
        )
        .order_by(R.next_attempt_at, R.id)
        .limit(limit)
    )
    if not _sqlite(session):
        due = due.with_for_update(skip_locked=True)
    until = now + timedelta(seconds=lease_seconds)
    result = await session.execute(
        update(R)
        .where(R.id.in_(due.scalar_subquery()))
        .values(claimed_by=worker_id, claimed_until=until)
        .returning(R.id, R.contact_id, R.attempts, R.next_attempt_at, R.error_code, R.error_message)
        .execution_options(synchronize_session=False)
    )
    rows = [Claimed(*row, claimed_by=worker_id, claimed_until=until) for row in result.all()]
    rows.sort(key=lambda r: r.id)
    return rows


def Table_of(model: type[BroadcastRecipient]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# What a claim step decides (judged, rendered, prepared) and what a record step learns;
# READY and SENT are the narrow forms for the common rows (fewer values bound per row).
READY = (
    "channel_account_id",
    "identity_id",
    "rule",
    "reason",
    "rendered",
    "outbound_id",
    "updated_at",
)
SENT = ("external_id", "sent_at", "updated_at")
SENT_FIXED = {
    "status": "sent",
    "claimed_until": None,  # claimed_by stays: which worker sent it
    "error_code": None,
    "error_message": None,
}
PREPARED = (
    "status",
    "next_attempt_at",
    "claimed_by",
    "claimed_until",
    "error_code",
    "error_message",
    *READY,
)
RECORDED = (
    "status",
    "next_attempt_at",
    "attempts",
    "claimed_by",
    "claimed_until",
    "external_id",
    "error_code",
    "error_message",
    "sent_at",
    "updated_at",
)


async def write_recipients(
    session: AsyncSession,
    rows: Sequence[Claimed],
    columns: Sequence[str],
    *,
    only_if: str | None = None,
    fixed: Mapping[str, object] | None = None,
    claimed_by: str | None = None,
) -> None:
    """Write these columns of these rows with one executemany UPDATE (no unit of work per
    row), and the `fixed` values to all of them. `only_if` / `claimed_by`: only rows still
    in this status / claimed by this worker are written (another hand may have moved them
    meanwhile)."""
    if not rows:
        return
    table = Table_of(BroadcastRecipient)
    statement = update(table).where(table.c.id == bindparam("b_id"))
    if only_if is not None:
        statement = statement.where(table.c.status == only_if)
    if claimed_by is not None:
        statement = statement.where(table.c.claimed_by == claimed_by)
    values: dict[str, object] = {name: bindparam(f"b_{name}") for name in columns}
    statement = statement.values({**values, **(fixed or {})})
    await session.execute(
        statement,
        [{"b_id": row.id, **{f"b_{name}": getattr(row, name) for name in columns}} for row in rows],
    )


async def launch(
    session: AsyncSession,
    broadcast_id: int,
    rows: Sequence[Claimed],
    worker_id: str,
    now: datetime,
) -> list[int]:
    """Prepared recipients -> "sending" with what was prepared for them (rule, rendered
    text, outbound row: one executemany), if the broadcast still runs and they are still
    ours and pending (a cancel or pause meanwhile keeps them back). Returns those launched."""
    if not rows:
        return []
    R = BroadcastRecipient
    ids = [row.id for row in rows]
    running = await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
    if running != "running":
        await session.execute(
            update(R)
            .where(R.id.in_(ids), R.status == "pending", R.claimed_by == worker_id)
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return []
    table = Table_of(BroadcastRecipient)
    for row in rows:
        row.updated_at = now
    await write_recipients(
        session,
        rows,
        READY,
        only_if="pending",
        fixed={"status": "sending", "attempts": table.c.attempts + 1},
        claimed_by=worker_id,
    )
    launched = select(R.id).where(R.id.in_(ids), R.status == "sending", R.claimed_by == worker_id)
    return list((await session.scalars(launched)).all())


async def statuses(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(BroadcastRecipient.id, BroadcastRecipient.status).where(
        BroadcastRecipient.id.in_(ids)
    )
    return {id_: status for id_, status in (await session.execute(query)).all()}


async def expire_in_flight(
    session: AsyncSession, broadcast_id: int, now: datetime, message: str
) -> list[int]:
    """Recipients left "sending" by a worker whose claim ran out (it crashed mid-send) ->
    "unknown", in one UPDATE; returns their outbound ids."""
    R = BroadcastRecipient
    stale = select(R.id).where(
        R.broadcast_id == broadcast_id, R.status == "sending", R.claimed_until < now
    )
    if not _sqlite(session):
        stale = stale.with_for_update(skip_locked=True)
    result = await session.execute(
        update(R)
        .where(R.id.in_(stale.scalar_subquery()))
        .values(
            status="unknown",
            error_code="unknown",
            error_message=message,
            claimed_by=None,
            claimed_until=None,
            updated_at=now,
        )
        .returning(R.outbound_id)
        .execution_options(synchronize_session=False)
    )
    return [i for (i,) in result.all() if i is not None]


async def status_counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """Recipients per ledger status; sent ones split by their receipts (delivered, read)."""
    R, Out = BroadcastRecipient, OutboundMessage
    query = (
        select(R.status, Out.status, func.count())
        .select_from(R)
        .outerjoin(Out, Out.id == R.outbound_id)
        .where(R.broadcast_id == broadcast_id)
        .group_by(R.status, Out.status)
    )
    counts: dict[str, int] = {}
    for own, outbound, n in (await session.execute(query)).all():
        name = outbound if own == "sent" and outbound in {"delivered", "read"} else own
        counts[name] = counts.get(name, 0) + int(n)
    return counts


async def sent_since(session: AsyncSession, broadcast_id: int, since: datetime) -> int:
    R = BroadcastRecipient
    query = select(func.count()).where(R.broadcast_id == broadcast_id, R.sent_at >= since)
    return int(await session.scalar(query) or 0)


@dataclass(frozen=True, slots=True)
class IdentityFacts:
    """What the plan and the run need of one channel identity."""

    id: int
    contact_id: int
    channel_account_id: int
    external_id: str
    last_inbound_at: datetime | None
    reachable: bool


@dataclass(slots=True)
class ContactFacts:
    """What the plan and the run need of one contact."""

    contact_id: int
    name: str
    first_name: str | None
    last_name: str | None
    timezone: str | None
    identities: list[IdentityFacts] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    unsubscribed: bool = False
    last_broadcast_at: datetime | None = None


async def facts(
    session: AsyncSession,
    workspace_id: int,
    contact_ids: list[int],
    account_ids: list[int],
    *,
    field_keys: Sequence[str] = (),
    cap_since: datetime | None = None,
    broadcast_id: int | None = None,
) -> dict[int, ContactFacts]:
    """The facts of a batch of contacts, one query per kind of fact."""
    if not contact_ids:
        return {}
    found: dict[int, ContactFacts] = {}
    rows = await session.execute(
        select(
            Contact.id, Contact.name, Contact.first_name, Contact.last_name, Contact.timezone
        ).where(Contact.workspace_id == workspace_id, Contact.id.in_(contact_ids))
    )
    for cid, name, first, last, tz in rows.all():
        found[cid] = ContactFacts(cid, name or "", first, last, tz)
    I = ContactIdentity  # noqa: E741
    # By contact only, the accounts filtered here: with the account in the WHERE, SQLite
    # (no statistics) walks the account's whole range of the window index instead, a scan
    # of every identity of the Page for each batch (a million rows for a million people).
    chosen = set(account_ids)
    identities = await session.execute(
        select(
            I.id, I.contact_id, I.channel_account_id, I.external_id, I.last_inbound_at, I.reachable
        ).where(I.contact_id.in_(contact_ids))
    )
    for found_row in identities.all():
        identity = IdentityFacts(*found_row)
        if identity.channel_account_id in chosen and identity.contact_id in found:
            found[identity.contact_id].identities.append(identity)
    revoked = await session.scalars(
        select(ContactConsent.contact_id).where(
            ContactConsent.contact_id.in_(contact_ids),
            ContactConsent.purpose == "marketing",
            ContactConsent.status == "revoked",
        )
    )
    for cid in revoked.all():
        if cid in found:
            found[cid].unsubscribed = True
    if field_keys:
        values = await session.execute(
            select(ContactFieldValue, FieldDefinition.key)
            .join(FieldDefinition, FieldDefinition.id == ContactFieldValue.field_id)
            .where(
                FieldDefinition.workspace_id == workspace_id,
                FieldDefinition.key.in_(list(field_keys)),
                ContactFieldValue.contact_id.in_(contact_ids),
            )
        )
        for value, key in values.all():
            shown = _field_text(value)
            if shown and value.contact_id in found:
                found[value.contact_id].fields[key] = shown
    if cap_since is not None:
        R = BroadcastRecipient
        query = (
            select(R.contact_id, func.max(R.sent_at))
            .where(R.contact_id.in_(contact_ids), R.sent_at >= cap_since)
            .group_by(R.contact_id)
        )
        if broadcast_id is not None:
            query = query.where(R.broadcast_id != broadcast_id)
        for cid, at in (await session.execute(query)).all():
            if cid in found:
                found[cid].last_broadcast_at = at
    return found


def _field_text(value: ContactFieldValue) -> str | None:
    if value.value_text is not None:
        return value.value_text
    if value.value_number is not None:
        number = value.value_number
        return str(int(number)) if number == int(number) else str(number)
    if value.value_date is not None:
        return value.value_date.strftime("%d/%m/%Y")
    if value.value_bool is not None:
        return "✓" if value.value_bool else "✗"
    return None


async def optin_tokens(session: AsyncSession, identity_ids: list[int]) -> dict[int, OptinToken]:
    """The newest active opt-in token per identity."""
    if not identity_ids:
        return {}
    rows = await session.scalars(
        select(OptinToken)
        .where(OptinToken.identity_id.in_(identity_ids))
        .order_by(OptinToken.updated_at)
    )
    return {row.identity_id: row for row in rows.all()}


async def field_keys(session: AsyncSession, workspace_id: int) -> list[str]:
    query = select(FieldDefinition.key).where(FieldDefinition.workspace_id == workspace_id)
    return list((await session.scalars(query)).all())


_LEDGER_COLUMNS = (
    BroadcastRecipient.contact_id,
    Contact.name,
    BroadcastRecipient.status,
    OutboundMessage.status,
    BroadcastRecipient.channel_account_id,
    BroadcastRecipient.rule,
    BroadcastRecipient.reason,
    BroadcastRecipient.rendered,
    BroadcastRecipient.external_id,
    BroadcastRecipient.error_code,
    BroadcastRecipient.error_message,
    BroadcastRecipient.attempts,
    BroadcastRecipient.sent_at,
    OutboundMessage.delivered_at,
    OutboundMessage.read_at,
    BroadcastRecipient.updated_at,
)


def ledger_query(broadcast_id: int, status: str | None, search: str | None) -> Select[Any]:
    R, Out = BroadcastRecipient, OutboundMessage
    query: Select[Any] = (
        select(*_LEDGER_COLUMNS)  # type: ignore[assignment]
        .join(Contact, Contact.id == R.contact_id)
        .outerjoin(Out, Out.id == R.outbound_id)
        .where(R.broadcast_id == broadcast_id)
        .order_by(R.id)
    )
    if status in {"delivered", "read"}:
        query = query.where(R.status == "sent", Out.status == status)
    elif status == "sent":
        query = query.where(R.status == "sent", Out.status == "sent")
    elif status:
        query = query.where(R.status == status)
    if search:
        query = query.where(Contact.search_text.contains(search))
    return query


async def ledger_page(
    session: AsyncSession, query: Select[Any], offset: int, limit: int
) -> Sequence[Any]:
    rows: Sequence[Any] = (await session.execute(query.offset(offset).limit(limit))).all()
    return rows


async def stream(session: AsyncSession, query: Select[Any], batch: int) -> AsyncIterator[Any]:
    result = await session.stream(query.execution_options(yield_per=batch))
    async for row in result:
        yield row


async def reset(
    session: AsyncSession, broadcast_id: int, statuses: Sequence[str], now: datetime
) -> int:
    """Put recipients of these statuses back to pending (retry failed / resend unknown)."""
    R = BroadcastRecipient
    result = await session.execute(
        update(R)
        .where(R.broadcast_id == broadcast_id, R.status.in_(list(statuses)))
        .values(
            status="pending",
            next_attempt_at=now,
            claimed_by=None,
            claimed_until=None,
            updated_at=now,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def outbound_ids_of(
    session: AsyncSession, broadcast_id: int, statuses: Sequence[str]
) -> list[int]:
    R = BroadcastRecipient
    query = select(R.outbound_id).where(
        R.broadcast_id == broadcast_id, R.status.in_(list(statuses)), R.outbound_id.is_not(None)
    )
    return [i for i in (await session.scalars(query)).all() if i is not None]


async def cancel_pending(session: AsyncSession, broadcast_id: int, now: datetime) -> int:
    R = BroadcastRecipient
    result = await session.execute(
        update(R)
        .where(R.broadcast_id == broadcast_id, R.status == "pending")
        .values(status="cancelled", updated_at=now, claimed_by=None, claimed_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def has_open(session: AsyncSession, broadcast_id: int) -> bool:
    R = BroadcastRecipient
    query = (
        select(R.id)
        .where(R.broadcast_id == broadcast_id, R.status.in_(["pending", "sending"]))
        .limit(1)
    )
    return await session.scalar(query) is not None


def sent_moments(broadcast_id: int) -> Subquery:
    """(contact_id, at) of every recipient this broadcast reached, as a subquery."""
    R = BroadcastRecipient
    return (
        select(R.contact_id.label("contact_id"), R.sent_at.label("at"))
        .where(R.broadcast_id == broadcast_id, R.sent_at.is_not(None))
        .subquery()
    )


async def responses(session: AsyncSession, broadcast_id: int) -> tuple[int, int]:
    """(replied, clicked): sent recipients who wrote after the send on that channel, and
    those who tapped one of the broadcast's quick replies."""
    R = BroadcastRecipient
    base = (
        select(func.count(func.distinct(R.id)))
        .select_from(R)
        .join(Conversation, Conversation.identity_id == R.identity_id)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            R.broadcast_id == broadcast_id,
            R.sent_at.is_not(None),
            Message.direction == "in",
            Message.created_at > R.sent_at,
        )
    )
    replied = int(await session.scalar(base) or 0)
    tapped = base.where(Message.content["payload"].as_string().like(f"bc:{broadcast_id}:qr:%"))
    return replied, int(await session.scalar(tapped) or 0)


@dataclass(frozen=True, slots=True)
class PlanCase:
    """A group of audience members with the same case (plan.CaseJudge), counted in SQL:
    no identity on the chosen accounts (`account_id` None) or exactly one, without an
    opt-in token. `last_inbound_at` is the newest of the group (every member's last
    interaction falls on the same side of each span)."""

    count: int
    account_id: int | None
    reachable: bool
    last_inbound_at: datetime | None
    unsubscribed: bool
    capped: bool
    timezone: str | None


async def plan_cases(
    session: AsyncSession,
    workspace_id: int,
    audience: Select[Any],
    account_ids: list[int],
    now: datetime,
    spans: Sequence[timedelta],
    *,
    cap_since: datetime | None,
    broadcast_id: int,
    by_timezone: bool,
) -> tuple[list[PlanCase], list[int]]:
    """The audience grouped by case with GROUP BY (nothing per member comes back), and the
    ids of the members that must be judged one by one (several identities on the chosen
    accounts, or an opt-in token)."""
    members = audience.subquery()
    member_id = next(iter(members.c))
    I, I2, C = ContactIdentity, aliased(ContactIdentity), Contact  # noqa: E741
    chosen = I2.channel_account_id.in_(account_ids)
    identities = select(func.count(I2.id)).where(I2.contact_id == C.id, chosen).scalar_subquery()
    token = exists().where(OptinToken.identity_id == I2.id, I2.contact_id == C.id, chosen)
    unsubscribed = case(
        (
            exists().where(
                ContactConsent.contact_id == C.id,
                ContactConsent.purpose == "marketing",
                ContactConsent.status == "revoked",
            ),
            1,
        ),
        else_=0,
    )
    R = BroadcastRecipient
    capped: Any = literal(0)
    if cap_since is not None:
        recent = exists().where(
            R.contact_id == C.id, R.sent_at >= cap_since, R.broadcast_id != broadcast_id
        )
        capped = case((recent, 1), else_=0)
    zone: Any = C.timezone if by_timezone else literal(None)
    people = (
        select(C.id)
        .join(members, member_id == C.id)
        .where(C.workspace_id == workspace_id)
        .subquery()
    )
    in_audience = and_(C.workspace_id == workspace_id, C.id.in_(select(people.c.id)))
    sides = [case((I.last_inbound_at >= now - span, 1), else_=0) for span in spans]
    keys = [I.channel_account_id, I.reachable, unsubscribed, capped, zone, *sides]
    single = (
        select(func.count(), func.max(I.last_inbound_at), *keys)
        .select_from(C)
        .join(I, and_(I.contact_id == C.id, I.channel_account_id.in_(account_ids)))
        .where(in_audience, identities == 1, ~token)
        .group_by(*keys)
    )
    none_keys = [unsubscribed, capped, zone]
    lonely = (
        select(func.count(), *none_keys)
        .select_from(C)
        .where(in_audience, identities == 0)
        .group_by(*none_keys)
    )
    cases: list[PlanCase] = []
    for n, last, account, reachable, unsub, cap, tz, *_ in (await session.execute(single)).all():
        cases.append(PlanCase(int(n), account, bool(reachable), last, bool(unsub), bool(cap), tz))
    for n, unsub, cap, tz in (await session.execute(lonely)).all():
        cases.append(PlanCase(int(n), None, False, None, bool(unsub), bool(cap), tz))
    one_by_one = select(C.id).where(in_audience, or_(identities > 1, token)).order_by(C.id)
    return cases, list((await session.scalars(one_by_one)).all())
