"""Broadcast runs against the strict Graph sandbox: the plan, exactly-once sends recorded by
the sandbox itself, skips with the rule, the ledger, pause/resume/cancel, a revoked token,
crash recovery ("unknown", resend on request)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from chatcart.broadcasts import service as broadcasts
from chatcart.broadcasts.errors import SpinTextInvalid, WrongState
from chatcart.broadcasts.schemas import BroadcastCreate, BroadcastPurpose
from chatcart.broadcasts.service import BroadcastRunner
from chatcart.broadcasts.spintext import parse, seeded_rng
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.models import (
    BroadcastRecipient,
    ContactIdentity,
    Conversation,
    Message,
    OutboundMessage,
)
from tests.broadcasts.world import PAGE, World, psid


def runner(world: World, worker: str = "w1", **options: object) -> BroadcastRunner:
    rt = world.rt
    return BroadcastRunner(
        sessions=rt.sessions,
        bus=rt.bus,
        secrets=rt.secrets,
        adapters=rt.adapters,
        worker_id=worker,
        limiter=rt.limiter,
        **options,  # type: ignore[arg-type]
    )


async def run_to_end(world: World, broadcast_id: int, bc_runner: BroadcastRunner) -> None:
    for _ in range(2000):
        await bc_runner.run_once()
        if (await world.progress(broadcast_id)).status in {"done", "cancelled"}:
            return
    raise AssertionError("the broadcast did not finish")


async def test_bad_spin_text_is_rejected_with_the_position(world: World) -> None:
    segment = await world.segment()
    with pytest.raises(SpinTextInvalid) as caught:
        async with transaction(world.rt.sessions) as session:
            await broadcasts.create(
                session,
                world.shop.workspace_id,
                BroadcastCreate(
                    name="x",
                    channel_account_ids=[world.account_id],
                    segment_id=segment,
                    text="Chào {{nick}} hôm nay",
                    purpose=BroadcastPurpose.PROMOTION,
                ),
            )
    assert caught.value.details["position"] == 5
    assert caught.value.details["problem"] == "unknown_variable"
    assert caught.value.status_code == 422


async def test_plan_counts_reach_and_skips_with_rules_and_dates(world: World) -> None:
    await world.add_people(4, window_hours=2)  # inside the 24-hour window
    await world.add_people(3, window_hours=24 * 5, start=100)  # window closed
    created = await world.create()
    async with world.rt.sessions() as session:
        plan = await broadcasts.plan(session, world.shop.workspace_id, created.id)
    assert (plan.total, plan.reachable, plan.skipped) == (7, 4, 3)
    (channel,) = plan.channels
    assert channel.reachable == 4
    assert [r.rule for r in channel.by_rule] == ["messenger.window"]
    (skip,) = plan.skips
    assert skip.count == 3
    assert skip.effective is not None
    assert skip.reason
    assert skip.reason_vi


async def test_plan_on_both_sides_of_the_tag_retirement(world: World) -> None:
    await world.add_people(2, window_hours=24 * 3)  # outside the window, 3 days ago
    created = await world.create(
        "Đơn hàng của {{first_name}} đã được gửi", purpose=BroadcastPurpose.ORDER_UPDATE
    )
    before = datetime(2026, 4, 20, 12, tzinfo=UTC)
    after = datetime(2026, 5, 2, 12, tzinfo=UTC)
    async with world.rt.sessions() as session:
        # The identities' last message is relative to the real now: move it for each side.
        await session.execute(
            update(ContactIdentity).values(last_inbound_at=datetime(2026, 4, 18, tzinfo=UTC))
        )
        old = await broadcasts.plan(session, world.shop.workspace_id, created.id, now=before)
        await session.execute(
            update(ContactIdentity).values(last_inbound_at=datetime(2026, 4, 30, tzinfo=UTC))
        )
        new = await broadcasts.plan(session, world.shop.workspace_id, created.id, now=after)
        await session.rollback()
    assert old.reachable == 2
    assert "post_purchase_update" in old.channels[0].by_rule[0].rule
    assert new.reachable == 0
    (skip,) = new.skips
    assert skip.count == 2
    assert skip.effective == date(2026, 4, 27)
    assert "27 April 2026" in skip.reason


async def test_a_segment_matching_nobody_plans_zero(world: World) -> None:
    created = await world.create()
    async with world.rt.sessions() as session:
        plan = await broadcasts.plan(session, world.shop.workspace_id, created.id)
    assert (plan.total, plan.reachable, plan.skipped) == (0, 0, 0)
    await world.start(created.id)
    await run_to_end(world, created.id, runner(world))
    assert (await world.progress(created.id)).total == 0


async def test_a_run_sends_once_to_each_reachable_and_accounts_for_everyone(world: World) -> None:
    ids = await world.add_people(30, window_hours=1)
    await world.add_people(5, window_hours=None, start=500)  # never wrote: no window
    created = await world.create()
    await world.start(created.id)
    # The audience is frozen: someone added now is not in this run.
    await world.add_people(3, window_hours=1, start=900)
    await run_to_end(world, created.id, runner(world, claim_batch=7))
    progress = await world.progress(created.id)
    assert progress.total == 35
    assert progress.sent + progress.delivered + progress.read == 30
    assert progress.skipped == 5
    assert progress.pending == progress.sending == progress.failed == progress.unknown == 0
    accepted = world.accepted_by_user()
    assert set(accepted) == {psid(i) for i in range(30)}
    assert set(accepted.values()) == {1}
    template = parse("{{Chào|Xin chào}} {{first_name}}, giảm 20% hôm nay!")
    identities = await world.identities()
    for record in world.graph.sends(PAGE):
        assert record.request["messaging_type"] == "UPDATE"
        assert "tag" not in record.request
    by_user = {r.user_id: r for r in world.graph.sends(PAGE)}
    for contact_id in ids[:5]:
        i = int(identities[contact_id]) - 7000000000000000
        first = ["An", "Bình", "Chi", "Dũng", "Hà", "Lan", "Minh", "Nam"][i % 8]
        expected = template.render({"first_name": first}, seeded_rng(created.id, contact_id))
        assert by_user[psid(i)].request["message"]["text"] == expected
    async with world.rt.sessions() as session:
        keys = set((await session.scalars(select(OutboundMessage.idempotency_key))).all())
        rows = await broadcasts.ledger(
            session, world.shop.workspace_id, created.id, status="skipped"
        )
        chunks = [
            c async for c in broadcasts.ledger_csv(session, world.shop.workspace_id, created.id)
        ]
    assert keys == {f"bc:{created.id}:{c}" for c in ids}
    assert len(rows) == 5
    assert all(r.rule and r.reason for r in rows)
    table = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert len(table) == 35
    assert {r["status"] for r in table} <= {"sent", "delivered", "read", "skipped"}
    assert all(r["rendered"] for r in table if r["status"] != "skipped")


async def test_frequency_cap_skips_a_second_broadcast_the_same_day(world: World) -> None:
    await world.add_people(4, window_hours=1)
    first = await world.create()
    await world.start(first.id)
    await run_to_end(world, first.id, runner(world))
    second = await world.create("Nhắc lại: giảm giá!")
    async with world.rt.sessions() as session:
        plan = await broadcasts.plan(session, world.shop.workspace_id, second.id)
    assert plan.reachable == 0
    assert [s.rule for s in plan.skips] == ["broadcast.frequency_cap"]
    await world.start(second.id)
    await run_to_end(world, second.id, runner(world))
    assert (await world.progress(second.id)).skipped == 4
    assert set(world.accepted_by_user().values()) == {1}


async def test_pause_resume_cancel(world: World) -> None:
    await world.add_people(20, window_hours=1)
    created = await world.create(batch_size=5, pause_seconds=0.05)
    await world.start(created.id)
    bc = runner(world)
    await bc.run_once()
    ws = world.shop.workspace_id
    async with transaction(world.rt.sessions) as session:
        await broadcasts.pause(session, Effects(), ws, created.id)
    sent_before = len(world.graph.sends(PAGE))
    for _ in range(3):
        await bc.run_once()
    assert len(world.graph.sends(PAGE)) == sent_before == 5
    with pytest.raises(WrongState):
        async with transaction(world.rt.sessions) as session:
            await broadcasts.pause(session, Effects(), ws, created.id)
    async with transaction(world.rt.sessions) as session:
        await broadcasts.resume(session, Effects(), ws, created.id)
    for _ in range(50):
        await bc.run_once()
        if len(world.graph.sends(PAGE)) >= 10:
            break
    async with transaction(world.rt.sessions) as session:
        await broadcasts.cancel(session, Effects(), ws, created.id)
    await bc.run_once()
    progress = await world.progress(created.id)
    assert progress.status == "cancelled"
    assert progress.cancelled == 20 - len(world.graph.sends(PAGE))
    assert progress.pending == 0


async def test_a_revoked_token_pauses_the_run_until_reconnected(world: World) -> None:
    await world.add_people(12, window_hours=1)
    created = await world.create(batch_size=4)
    await world.start(created.id)
    bc = runner(world)
    await bc.run_once()
    assert len(world.accepted_by_user()) == 4
    world.graph.revoke_token(PAGE)
    for _ in range(5):
        await bc.run_once()
    progress = await world.progress(created.id)
    assert progress.status == "paused"
    assert progress.pause_reason is not None
    assert "reconnect" in progress.pause_reason
    assert progress.failed == 0
    await world.reconnect("EAA-new-token")
    async with transaction(world.rt.sessions) as session:  # skip the refused ones' wait
        await session.execute(
            update(BroadcastRecipient).values(next_attempt_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
    await run_to_end(world, created.id, bc)
    accepted = world.accepted_by_user()
    assert len(accepted) == 12
    assert set(accepted.values()) == {1}


async def test_a_send_in_flight_at_a_crash_is_unknown_and_resent_only_on_request(
    world: World,
) -> None:
    await world.add_people(6, window_hours=1)
    created = await world.create()
    await world.start(created.id)
    crashed = runner(world, worker="crashed", lease_seconds=0.01)
    # Claimed, prepared and launched ("sending", committed), then the process dies before
    # any answer came back.
    prepared = await crashed._step_claim(created.id)
    assert not isinstance(prepared, float | None)
    async with transaction(world.rt.sessions) as session:
        launched = await crashed._launch(session, prepared)
    assert len(launched) == 6
    await run_to_end(world, created.id, runner(world, worker="after"))
    progress = await world.progress(created.id)
    assert progress.unknown == 6
    assert world.graph.sends(PAGE) == []  # never resent blindly
    async with transaction(world.rt.sessions) as session:
        again = await broadcasts.resend_unknown(
            session, Effects(), world.shop.workspace_id, created.id
        )
    assert again == 6
    await run_to_end(world, created.id, runner(world, worker="after"))
    assert len(world.accepted_by_user()) == 6
    assert (await world.progress(created.id)).unknown == 0


async def test_a_batch_prepared_but_not_launched_at_a_crash_is_simply_sent(
    world: World,
) -> None:
    await world.add_people(5, window_hours=1)
    created = await world.create()
    await world.start(created.id)
    crashed = runner(world, worker="crashed", lease_seconds=0.01)
    prepared = await crashed._step_claim(created.id)
    assert not isinstance(prepared, float | None)
    await run_to_end(world, created.id, runner(world, worker="after"))
    progress = await world.progress(created.id)
    assert (progress.sent, progress.unknown) == (5, 0)
    assert set(world.accepted_by_user().values()) == {1}


async def test_the_report_counts_replies_and_quick_reply_taps(world: World) -> None:
    ids = await world.add_people(4, window_hours=1)
    async with transaction(world.rt.sessions) as session:
        made = await broadcasts.create(
            session,
            world.shop.workspace_id,
            BroadcastCreate(
                name="Hỏi ý kiến",
                channel_account_ids=[world.account_id],
                segment_id=await world.segment(),
                text="Bạn thích mẫu nào?",
                quick_replies=["Mẫu A", "Mẫu B"],
                purpose=BroadcastPurpose.PROMOTION,
            ),
        )
    await world.start(made.id)
    await run_to_end(world, made.id, runner(world))
    (record,) = world.graph.sends(PAGE, psid(0))
    assert [q["title"] for q in record.request["message"]["quick_replies"]] == ["Mẫu A", "Mẫu B"]
    async with transaction(world.rt.sessions) as session:
        identities = {
            i.contact_id: i for i in (await session.scalars(select(ContactIdentity))).all()
        }
        later = datetime.now(UTC) + timedelta(seconds=5)
        for n, (contact_id, payload) in enumerate([(ids[0], f"bc:{made.id}:qr:1"), (ids[1], None)]):
            identity = identities[contact_id]
            conversation = Conversation(
                workspace_id=world.shop.workspace_id, contact_id=contact_id,
                channel_account_id=world.account_id, identity_id=identity.id,
            )  # fmt: skip
            session.add(conversation)
            await session.flush()
            session.add(
                Message(
                    workspace_id=world.shop.workspace_id, conversation_id=conversation.id,
                    direction="in", sender="contact", text=f"reply {n}", created_at=later,
                    content={"payload": payload} if payload else {},
                )
            )  # fmt: skip
    async with world.rt.sessions() as session:
        report = await broadcasts.report(session, world.shop.workspace_id, made.id)
    assert (report.recipients, report.reached, report.replied, report.clicked) == (4, 4, 2, 1)
