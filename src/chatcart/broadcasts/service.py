"""The broadcasts room's only door: compose, preview, plan, start / pause / resume / cancel,
retry, progress, ledger. The run itself is broadcasts/runner.py, driven by the worker."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.broadcasts import repository
from chatcart.broadcasts.errors import (
    BroadcastInvalid,
    BroadcastNotFound,
    SpinTextInvalid,
    WrongState,
)
from chatcart.broadcasts.plan import Account, CaseJudge, Settings, Verdict, case_facts
from chatcart.broadcasts.runner import BroadcastRunner, begin_run, values_for
from chatcart.broadcasts.schemas import (
    BroadcastCreate,
    BroadcastOut,
    BroadcastPurpose,
    ChannelPlan,
    LedgerRow,
    PlanOut,
    Preview,
    Progress,
    Report,
    RuleCount,
)
from chatcart.broadcasts.spintext import SpinSyntaxError, Template, parse, seeded_rng
from chatcart.channels import service as channels
from chatcart.kit.clock import utcnow
from chatcart.kit.effects import Effects
from chatcart.models import Broadcast
from chatcart.orders import service as orders
from chatcart.segments import service as segments

DEFAULT_ORDER_DAYS = 7
MAX_ORDER_DAYS = 365

__all__ = [
    "DEFAULT_ORDER_DAYS",
    "MAX_ORDER_DAYS",
    "BroadcastRunner",
    "cancel",
    "check_text",
    "create",
    "get",
    "ledger",
    "ledger_csv",
    "list_broadcasts",
    "pause",
    "plan",
    "preview",
    "progress",
    "report",
    "resend_unknown",
    "resume",
    "retry_failed",
    "start",
]


async def check_text(session: AsyncSession, workspace_id: int, text: str) -> Template:
    """Parse the spin text against the workspace's fields; SpinTextInvalid with the position."""
    known = await repository.field_keys(session, workspace_id)
    try:
        return parse(text, known=known)
    except SpinSyntaxError as exc:
        raise SpinTextInvalid(
            str(exc), position=exc.position, problem=exc.code, hint=exc.message
        ) from exc


async def _accounts(session: AsyncSession, workspace_id: int, ids: list[int]) -> dict[int, Account]:
    found = {a.id: a for a in await channels.list_accounts(session, workspace_id)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise BroadcastInvalid(
            f"no channel account {missing[0]} in this workspace", field="channel_account_ids"
        )
    return {i: Account(i, found[i].kind, found[i].name, found[i].status) for i in ids}


async def create(session: AsyncSession, workspace_id: int, data: BroadcastCreate) -> BroadcastOut:
    await check_text(session, workspace_id, data.text)
    await _accounts(session, workspace_id, data.channel_account_ids)
    await segments.get(session, workspace_id, data.segment_id)  # NotFound if not ours
    throttle = data.throttle
    row = Broadcast(
        workspace_id=workspace_id,
        name=data.name.strip(),
        channel_account_ids=list(dict.fromkeys(data.channel_account_ids)),
        segment_id=data.segment_id,
        content={
            "text": parse(data.text).source,
            "quick_replies": data.quick_replies,
            "image_url": data.image_url,
        },
        purpose=data.purpose.value,
        batch_size=throttle.batch_size,
        pause_seconds=throttle.pause_seconds,
        jitter_seconds=throttle.jitter_seconds,
        max_per_second=throttle.max_per_second,
        frequency_cap_hours=throttle.frequency_cap_hours,
        quiet_start_hour=throttle.quiet_start_hour,
        quiet_end_hour=throttle.quiet_end_hour,
        scheduled_at=data.scheduled_at,
        status="draft",
    )
    session.add(row)
    await session.flush()
    return BroadcastOut.model_validate(row)


async def _row(
    session: AsyncSession, workspace_id: int, broadcast_id: int, *, lock: bool = False
) -> Broadcast:
    row = await repository.broadcast(session, workspace_id, broadcast_id, lock=lock)
    if row is None:
        raise BroadcastNotFound(f"no broadcast {broadcast_id}")
    return row


async def get(session: AsyncSession, workspace_id: int, broadcast_id: int) -> BroadcastOut:
    return BroadcastOut.model_validate(await _row(session, workspace_id, broadcast_id))


async def list_broadcasts(session: AsyncSession, workspace_id: int) -> list[BroadcastOut]:
    rows = await repository.broadcasts_of(session, workspace_id)
    return [BroadcastOut.model_validate(r) for r in rows]


async def preview(
    session: AsyncSession,
    workspace_id: int,
    text: str,
    *,
    segment_id: int | None = None,
    samples: int = 5,
    seed: int = 0,
) -> Preview:
    """N renderings for real contacts of the audience (or made-up names without one)."""
    template = await check_text(session, workspace_id, text)
    keys = sorted({v.name for v in template.variables()})
    out: list[str] = []
    if segment_id is not None:
        page = await segments.preview(session, workspace_id, segment_id, limit=samples)
        ids = [c.id for c in page.items]
        facts = await repository.facts(session, workspace_id, ids, [], field_keys=keys)
        out = [
            template.render(values_for(facts[i]), seeded_rng(seed, i)) for i in ids if i in facts
        ]
    if not out:
        names = ["Nguyễn Thị Lan", "Trần Văn Minh", "Maria Santos", "Lê Hoàng", "Phạm Thu Hà"]
        for i in range(samples):
            name = names[i % len(names)]
            first = name.split()[-1]
            values = {"full_name": name, "first_name": first, "last_name": name.split()[0]}
            out.append(template.render(values, seeded_rng(seed, -1 - i)))
    return Preview(variants=template.variant_count(), samples=out)


async def plan(
    session: AsyncSession, workspace_id: int, broadcast_id: int, now: datetime | None = None
) -> PlanOut:
    """Who can be reached, on which channel and by which rule, and who is skipped and why.
    A segment that matches nobody is a plan of zero."""
    at = now or utcnow()
    row = await _row(session, workspace_id, broadcast_id)
    accounts = await _accounts(session, workspace_id, row.channel_account_ids)
    settings = Settings(
        purpose=BroadcastPurpose(row.purpose),
        accounts=list(accounts.values()),
        frequency_cap_hours=row.frequency_cap_hours,
        quiet_start_hour=row.quiet_start_hour,
        quiet_end_hour=row.quiet_end_hour,
    )
    channel_plans = {
        a.id: ChannelPlan(channel_account_id=a.id, name=a.name, kind=a.kind)
        for a in accounts.values()
    }
    by_rule: dict[tuple[int, str], RuleCount] = {}
    skips: dict[str, RuleCount] = {}
    total = reachable = later = 0
    cap_since = (
        at - timedelta(hours=row.frequency_cap_hours or 0) if row.frequency_cap_hours else None
    )
    judged = CaseJudge(settings, at)  # one verdict per distinct case, not per contact

    def tally(verdict: Verdict, n: int) -> None:
        nonlocal total, reachable, later
        total += n
        if verdict.kind == "skip":
            count = skips.setdefault(
                verdict.rule,
                RuleCount(
                    rule=verdict.rule,
                    effective=verdict.effective,
                    reason=verdict.reason,
                    reason_vi=verdict.reason_vi,
                ),
            )
            count.count += n
            return
        reachable += n
        later += n if verdict.kind == "later" else 0
        assert verdict.account_id is not None
        decision = verdict.decision
        rule = decision.rule if decision else verdict.rule
        channel_plans[verdict.account_id].reachable += n
        count = by_rule.setdefault(
            (verdict.account_id, rule),
            RuleCount(
                rule=rule,
                effective=decision.effective if decision else verdict.effective,
                reason=decision.reason if decision else verdict.reason,
                reason_vi=decision.explanation_vi if decision else verdict.reason_vi,
            ),
        )
        count.count += n

    if row.segment_id is not None:
        # Counted in SQL, one row per case; only members with several identities on the
        # chosen accounts or an opt-in token are loaded and judged one by one.
        audience = await segments.audience(session, workspace_id, row.segment_id, at)
        cases, one_by_one = await repository.plan_cases(
            session,
            workspace_id,
            audience,
            list(accounts),
            at,
            judged.spans(),
            cap_since=cap_since,
            broadcast_id=row.id,
            by_timezone=row.quiet_start_hour is not None and row.quiet_end_hour is not None,
        )
        for case in cases:
            tally(judged(case_facts(case, at), {}), case.count)
        for start in range(0, len(one_by_one), 1000):
            ids = one_by_one[start : start + 1000]
            facts = await repository.facts(
                session, workspace_id, ids, list(accounts), cap_since=cap_since, broadcast_id=row.id
            )
            tokens = await repository.optin_tokens(
                session, [i.id for f in facts.values() for i in f.identities]
            )
            for contact in facts.values():
                tally(judged(contact, tokens), 1)
    for (account_id, _), count in by_rule.items():
        channel_plans[account_id].by_rule.append(count)
    return PlanOut(
        total=total,
        reachable=reachable,
        skipped=total - reachable,
        later=later,
        channels=list(channel_plans.values()),
        skips=sorted(skips.values(), key=lambda c: -c.count),
        at=at,
    )


async def start(
    session: AsyncSession, effects: Effects, workspace_id: int, broadcast_id: int
) -> BroadcastOut:
    """Send now, or at the scheduled time. The audience is frozen when the run starts."""
    row = await _row(session, workspace_id, broadcast_id, lock=True)
    if row.status != "draft":
        raise WrongState(f"the broadcast is {row.status}; only a draft can be started")
    now = utcnow()
    if row.scheduled_at is not None and row.scheduled_at > now:
        row.status, row.updated_at = "scheduled", now
    else:
        await begin_run(session, row, now)
    effects.wake("broadcasts")
    return BroadcastOut.model_validate(row)


async def pause(
    session: AsyncSession, effects: Effects, workspace_id: int, broadcast_id: int
) -> BroadcastOut:
    row = await _row(session, workspace_id, broadcast_id, lock=True)
    if row.status not in {"running", "scheduled"}:
        raise WrongState(f"the broadcast is {row.status}; only a running one can be paused")
    row.status, row.paused_by, row.updated_at = "paused", "seller", utcnow()
    row.pause_reason = "Paused by the seller."
    return BroadcastOut.model_validate(row)


async def resume(
    session: AsyncSession, effects: Effects, workspace_id: int, broadcast_id: int
) -> BroadcastOut:
    row = await _row(session, workspace_id, broadcast_id, lock=True)
    if row.status != "paused":
        raise WrongState(f"the broadcast is {row.status}; only a paused one can be resumed")
    if row.paused_by == "reauth":
        raise WrongState("reconnect the channel account: the broadcast then goes on by itself")
    now = utcnow()
    row.status = "running" if row.started_at else "scheduled"
    row.paused_by = row.pause_reason = None
    row.updated_at = now
    effects.wake("broadcasts")
    return BroadcastOut.model_validate(row)


async def cancel(
    session: AsyncSession, effects: Effects, workspace_id: int, broadcast_id: int
) -> BroadcastOut:
    """Nothing more is sent; what is in flight finishes and is recorded."""
    row = await _row(session, workspace_id, broadcast_id, lock=True)
    if row.status in {"done", "cancelled"}:
        raise WrongState(f"the broadcast is already {row.status}")
    now = utcnow()
    await repository.cancel_pending(session, row.id, now)
    row.status, row.finished_at, row.updated_at = "cancelled", now, now
    return BroadcastOut.model_validate(row)


async def _again(
    session: AsyncSession, effects: Effects, workspace_id: int, broadcast_id: int, status: str
) -> int:
    row = await _row(session, workspace_id, broadcast_id, lock=True)
    if row.status not in {"done", "running", "paused"}:
        raise WrongState(f"the broadcast is {row.status}")
    now = utcnow()
    count = await repository.reset(session, row.id, [status], now)
    if count and row.status == "done":
        row.status, row.finished_at = "running", None
    row.updated_at = now
    effects.wake("broadcasts")
    return count


async def retry_failed(
    session: AsyncSession, effects: Effects, workspace_id: int, broadcast_id: int
) -> int:
    """Send again to the recipients whose send failed, and only to them."""
    return await _again(session, effects, workspace_id, broadcast_id, "failed")


async def resend_unknown(
    session: AsyncSession, effects: Effects, workspace_id: int, broadcast_id: int
) -> int:
    """The seller's choice: send again to recipients whose send was in flight at a crash
    (some of them may then get the message twice)."""
    return await _again(session, effects, workspace_id, broadcast_id, "unknown")


async def progress(session: AsyncSession, workspace_id: int, broadcast_id: int) -> Progress:
    row = await _row(session, workspace_id, broadcast_id)
    counts = await repository.status_counts(session, row.id)
    window = 15.0
    recent = await repository.sent_since(session, row.id, utcnow() - timedelta(seconds=window))
    rate = recent / window if recent else None
    pending = counts.get("pending", 0)
    return Progress(
        broadcast_id=row.id,
        status=row.status,
        total=sum(counts.values()),
        pending=pending,
        sending=counts.get("sending", 0),
        sent=counts.get("sent", 0),
        delivered=counts.get("delivered", 0),
        read=counts.get("read", 0),
        skipped=counts.get("skipped", 0),
        failed=counts.get("failed", 0),
        unknown=counts.get("unknown", 0),
        cancelled=counts.get("cancelled", 0),
        rate_per_second=rate,
        eta_seconds=pending / rate if rate and row.status == "running" else None,
        pause_reason=row.pause_reason,
        paused_by=row.paused_by,
    )


async def report(
    session: AsyncSession,
    workspace_id: int,
    broadcast_id: int,
    order_days: int = DEFAULT_ORDER_DAYS,
) -> Report:
    """Reach and what people did after the message, with the orders they placed within
    `order_days` days of it (0 to 365)."""
    if not 0 <= order_days <= MAX_ORDER_DAYS:
        raise BroadcastInvalid(
            f"the days for orders must be between 0 and {MAX_ORDER_DAYS}", field="order_days"
        )
    row = await _row(session, workspace_id, broadcast_id)
    counts = await repository.status_counts(session, row.id)
    replied, clicked = await repository.responses(session, row.id)
    orders_placed, buyers = await orders.orders_after(
        session, workspace_id, repository.sent_moments(row.id), order_days
    )
    read = counts.get("read", 0)
    delivered = counts.get("delivered", 0) + read
    return Report(
        broadcast_id=row.id,
        recipients=sum(counts.values()),
        reached=counts.get("sent", 0) + delivered,
        delivered=delivered,
        read=read,
        replied=replied,
        clicked=clicked,
        order_days=order_days,
        orders=orders_placed,
        buyers=buyers,
        skipped=counts.get("skipped", 0),
        failed=counts.get("failed", 0),
        unknown=counts.get("unknown", 0),
    )


def _ledger_row(values: tuple[object, ...]) -> LedgerRow:
    (
        contact_id, name, own, outbound, account_id, rule, reason, rendered, external_id,
        error_code, error_message, attempts, sent_at, delivered_at, read_at, updated_at,
    ) = values  # fmt: skip
    status = outbound if own == "sent" and outbound in {"delivered", "read"} else own
    return LedgerRow.model_validate(
        {
            "contact_id": contact_id,
            "contact_name": name,
            "status": status,
            "channel_account_id": account_id,
            "rule": rule,
            "reason": reason,
            "rendered": rendered,
            "external_id": external_id,
            "error_code": error_code,
            "error_message": error_message,
            "attempts": attempts,
            "sent_at": sent_at,
            "delivered_at": delivered_at,
            "read_at": read_at,
            "updated_at": updated_at,
        }
    )


async def ledger(
    session: AsyncSession,
    workspace_id: int,
    broadcast_id: int,
    *,
    status: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[LedgerRow]:
    row = await _row(session, workspace_id, broadcast_id)
    query = repository.ledger_query(row.id, status, search)
    return [
        _ledger_row(tuple(r)) for r in await repository.ledger_page(session, query, offset, limit)
    ]


CSV_COLUMNS = list(LedgerRow.model_fields)


async def ledger_csv(
    session: AsyncSession,
    workspace_id: int,
    broadcast_id: int,
    *,
    status: str | None = None,
) -> AsyncIterator[str]:
    """The whole ledger as CSV text, in chunks (streamed: flat memory for big runs)."""
    row = await _row(session, workspace_id, broadcast_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    query = repository.ledger_query(row.id, status, None)
    n = 0
    async for values in repository.stream(session, query, 1000):
        item = _ledger_row(tuple(values)).model_dump(mode="json")
        writer.writerow(["" if item[c] is None else item[c] for c in CSV_COLUMNS])
        n += 1
        if n % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
