"""The bulk path of a run: batch requests, one verdict per case, lost batches as unknown,
and the orders the report counts after a send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from chatcart.broadcasts import repository
from chatcart.broadcasts import service as broadcasts
from chatcart.broadcasts.errors import BroadcastInvalid
from chatcart.broadcasts.plan import Account, CaseJudge, Settings, judge
from chatcart.broadcasts.repository import ContactFacts, IdentityFacts
from chatcart.broadcasts.schemas import BroadcastPurpose
from chatcart.channels.base import AccountRef, SendError, SendResult
from chatcart.channels.meta.graph import GraphAdapter
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.models import (
    BroadcastRecipient,
    ContactConsent,
    ContactIdentity,
    OptinToken,
    Order,
    OutboundMessage,
)
from chatcart.segments import service as segments
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceCreate
from tests.broadcasts.test_run import run_to_end, runner
from tests.broadcasts.world import World, psid


async def test_batches_send_each_once_and_account_for_everyone(world: World) -> None:
    await world.add_people(120, window_hours=1)
    await world.add_people(7, window_hours=30, start=500)  # window closed
    created = await world.create()
    await world.start(created.id)
    await run_to_end(world, created.id, runner(world, claim_batch=80, concurrency=2))
    progress = await world.progress(created.id)
    assert progress.sent + progress.delivered + progress.read == 120
    assert progress.skipped == 7
    assert progress.pending == progress.sending == progress.unknown == progress.failed == 0
    accepted = world.accepted_by_user()
    assert set(accepted) == {psid(i) for i in range(120)}
    assert set(accepted.values()) == {1}  # no duplicates
    async with world.rt.sessions() as session:
        statuses = (await session.scalars(select(OutboundMessage.status))).all()
        rendered = (
            await session.scalars(
                select(BroadcastRecipient.rendered).where(BroadcastRecipient.status == "sent")
            )
        ).all()
    assert set(statuses) <= {"sent", "delivered", "read"} and len(statuses) == 120
    assert all(rendered)


async def test_a_lost_batch_leaves_unknowns_never_resent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.add_people(60, window_hours=1)
    created = await world.create()
    await world.start(created.id)
    real = GraphAdapter._batch
    lost_once = {"left": 1}

    async def answer_lost(
        self: GraphAdapter, account: AccountRef, token: str, calls: list[dict[str, str]]
    ) -> list[SendResult | SendError]:
        answers = await real(self, account, token, calls)  # Meta took them...
        if lost_once["left"]:
            lost_once["left"] -= 1  # ... but the answer never came back
            return [SendError("unknown", "batch_lost", "connection reset")] * len(calls)
        return answers

    monkeypatch.setattr(GraphAdapter, "_batch", answer_lost)
    await run_to_end(world, created.id, runner(world, claim_batch=50))
    progress = await world.progress(created.id)
    assert progress.unknown == 50
    assert progress.sent + progress.delivered + progress.read == 10
    assert set(world.accepted_by_user().values()) == {1}
    assert len(world.accepted_by_user()) == 60  # the lost ones did arrive, once
    async with world.rt.sessions() as session:
        unknown = (
            await session.scalars(
                select(OutboundMessage.status).where(OutboundMessage.status == "unknown")
            )
        ).all()
    assert len(unknown) == 50
    # The seller's choice: resend them (they may get it twice, and here they do).
    async with transaction(world.rt.sessions) as session:
        again = await broadcasts.resend_unknown(
            session, Effects(), world.shop.workspace_id, created.id
        )
    assert again == 50
    await run_to_end(world, created.id, runner(world, claim_batch=50))
    assert sorted(set(world.accepted_by_user().values())) == [1, 2]


def _contact(cid: int, *identities: IdentityFacts, tz: str | None = None) -> ContactFacts:
    return ContactFacts(cid, f"Khách {cid}", None, None, tz, list(identities))


def test_one_verdict_per_case_is_each_contacts_verdict() -> None:
    now = utcnow()
    settings = Settings(
        purpose=BroadcastPurpose.PROMOTION,
        accounts=[
            Account(1, "messenger", "Page", "active"),
            Account(2, "instagram", "IG", "active"),
        ],
        frequency_cap_hours=24,
        quiet_start_hour=None,
        quiet_end_hour=None,
    )
    ages: Sequence[timedelta | None] = [
        timedelta(hours=1),
        timedelta(hours=24),
        timedelta(hours=24, seconds=1),
        timedelta(days=8),
        None,
    ]
    contacts: list[ContactFacts] = []
    n = 0
    for account in (1, 2):
        for age in ages:
            for reachable in (True, False):
                for _ in range(3):
                    n += 1
                    at = None if age is None else now - age
                    contacts.append(
                        _contact(n, IdentityFacts(n * 10, n, account, f"x{n}", at, reachable))
                    )
    both = _contact(
        999,
        IdentityFacts(9991, 999, 1, "a", now - timedelta(days=3), True),
        IdentityFacts(9992, 999, 2, "b", now - timedelta(hours=2), True),
    )
    contacts += [both, _contact(1000)]
    capped = _contact(1001, IdentityFacts(10011, 1001, 1, "c", now, True))
    capped.last_broadcast_at = now - timedelta(hours=2)
    contacts.append(capped)
    cases = CaseJudge(settings, now)
    for contact in contacts:
        assert cases(contact, {}) == judge(settings, contact, {}, now)
    assert cases.judged < len(contacts) / 2
    assert cases(both, {}).identity is both.identities[1]  # the open window, on Instagram


async def test_the_report_counts_orders_within_n_days(world: World) -> None:
    ids = await world.add_people(4, window_hours=1)
    created = await world.create()
    await world.start(created.id)
    await run_to_end(world, created.id, runner(world))
    ws = world.shop.workspace_id
    async with transaction(world.rt.sessions) as session:
        sent = dict(
            (
                await session.execute(
                    select(BroadcastRecipient.contact_id, BroadcastRecipient.sent_at)
                )
            ).all()
        )
        placed = [
            (ids[0], timedelta(days=1), "pending"),
            (ids[0], timedelta(days=2), "delivered"),
            (ids[1], timedelta(days=6, hours=23), "confirmed"),
            (ids[2], timedelta(days=10), "pending"),  # too late for 7 days
            (ids[3], timedelta(days=1), "cancelled"),  # not an order any more
            (ids[3], -timedelta(hours=1), "pending"),  # before the send
        ]
        for number, (contact, after, status) in enumerate(placed, start=1001):
            session.add(
                Order(workspace_id=ws, number=number, contact_id=contact, status=status,
                      currency="VND", subtotal=100_000, total=100_000, customer_name="Khách",
                      phone="+84901234567", address="Hà Nội", created_at=sent[contact] + after)
            )  # fmt: skip
    async with world.rt.sessions() as session:
        week = await broadcasts.report(session, ws, created.id)
        month = await broadcasts.report(session, ws, created.id, order_days=30)
        with pytest.raises(BroadcastInvalid):
            await broadcasts.report(session, ws, created.id, order_days=-1)
    assert (week.order_days, week.orders, week.buyers) == (7, 3, 2)
    assert (month.order_days, month.orders, month.buyers) == (30, 4, 3)
    async with transaction(world.rt.sessions) as session:  # another shop's orders never count
        other = await workspaces.create(session, WorkspaceCreate(name="Other", slug="other"))
        await session.execute(update(Order).values(workspace_id=other.id))
    async with world.rt.sessions() as session:
        assert (await broadcasts.report(session, ws, created.id)).orders == 0


async def test_the_plan_counted_in_sql_is_the_plan_judged_one_by_one(world: World) -> None:
    now = utcnow()
    ws = world.shop.workspace_id
    inside = await world.add_people(6, window_hours=1)
    await world.add_people(3, window_hours=24 * 3, start=100)  # closed
    await world.add_people(2, window_hours=None, start=200)  # never wrote
    await world.add_people(3, window_hours=2, start=300, tz="Asia/Ho_Chi_Minh")
    blocked = await world.add_people(2, window_hours=1, start=400)
    earlier = await world.add_people(2, window_hours=1, start=500)
    async with transaction(world.rt.sessions) as session:
        await session.execute(
            update(ContactIdentity)
            .where(ContactIdentity.contact_id.in_(blocked))
            .values(reachable=False)
        )
        session.add(ContactConsent(contact_id=inside[0], purpose="marketing", status="revoked",
                                   source="STOP", updated_at=now))  # fmt: skip
        identity = await session.scalar(
            select(ContactIdentity.id).where(ContactIdentity.contact_id == inside[1])
        )
        assert identity is not None
        session.add(OptinToken(workspace_id=ws, channel_account_id=world.account_id,
                               identity_id=identity, token_encrypted="x", frequency="WEEKLY",
                               expires_at=now + timedelta(days=30), updated_at=now))  # fmt: skip
        session.add(ContactIdentity(workspace_id=ws, contact_id=inside[2],
                                    channel_account_id=world.account_id, external_id="second",
                                    last_inbound_at=now - timedelta(days=2), reachable=True,
                                    profile={}, created_at=now))  # fmt: skip
    first = await world.create(segment_id=None)
    async with transaction(world.rt.sessions) as session:  # the frequency cap's history
        for contact in earlier:
            session.add(BroadcastRecipient(broadcast_id=first.id, contact_id=contact,
                                           status="sent", next_attempt_at=now, attempts=1,
                                           sent_at=now - timedelta(hours=3)))  # fmt: skip
    created = await world.create(frequency_cap_hours=24, quiet_start_hour=0, quiet_end_hour=23)
    async with world.rt.sessions() as session:
        planned = await broadcasts.plan(session, ws, created.id, now=now)
        row = await broadcasts.get(session, ws, created.id)
        members = [
            m
            async for page in segments.iter_members(session, ws, row.segment_id or 0, now=now)
            for m in page
        ]
        facts = await repository.facts(session, ws, members, [world.account_id],
                                       cap_since=now - timedelta(hours=24),
                                       broadcast_id=created.id)  # fmt: skip
        tokens = await repository.optin_tokens(
            session, [i.id for f in facts.values() for i in f.identities]
        )
    settings = Settings(
        purpose=BroadcastPurpose.PROMOTION,
        accounts=[Account(world.account_id, "messenger", "Page", "active")],
        frequency_cap_hours=24,
        quiet_start_hour=0,
        quiet_end_hour=23,
    )
    verdicts = [judge(settings, contact, tokens, now) for contact in facts.values()]
    assert planned.total == len(members) == 18
    assert planned.reachable == sum(v.kind != "skip" for v in verdicts)
    assert planned.later == sum(v.kind == "later" for v in verdicts)
    skips = {c.rule: c.count for c in planned.skips}
    expected: dict[str, int] = {}
    for v in verdicts:
        if v.kind == "skip":
            expected[v.rule] = expected.get(v.rule, 0) + 1
    assert skips == expected
    assert len(expected) >= 3  # the population really has several kinds of skips
